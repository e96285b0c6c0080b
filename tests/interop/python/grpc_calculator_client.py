#!/usr/bin/env python3
"""A real gRPC client (Debian's python3-grpcio) of parley's gRPC server:
generic calls (`channel.unary_unary`, no service stubs), the messages from
protoc-generated code of the contract's calculator.proto.

Usage: /usr/bin/python3 grpc_calculator_client.py TARGET SCENARIO [CA_PEM]

With CA_PEM the channel is TLS (ALPN h2), trusting that CA.

Prints one JSON line with what the call got: `{"code": 0, ...}` for OK (the
reply's fields beside it), else the status code's number, its details, and
for an error with `grpc-status-details-bin` the decoded google.rpc.Status.
Scenarios: add, invalid (Calculate dividing by 0), unknown (a method the
server lacks), deadline (Ping with a 300 ms deadline), cancel (Ping, cancelled
once a line arrives on stdin), oversize (Echo of 4096 characters),
add-many (100 Adds, the sums checked), metadata (Add with the request
header x-request-tag: py-7; the reply's x-request-* headers and trailers),
metadata-error (the same on a Calculate dividing by 0), gzip (EchoBinary of
13,000 compressible bytes sent gzip-compressed; the length back), gzip-bomb
(EchoBinary of 1 MiB of zeros, gzip-compressed).

Streaming scenarios (`channel.unary_stream / stream_unary / stream_stream`):
range (Range 5..8 with x-request-tag: py-r; the values and the tags),
range-invalid (count -1), range-many (100,000 numbers, checked),
range-deadline (Range with 10 ms between numbers and a 300 ms deadline; how
many came), range-cancel (Range, cancelled after 3 numbers), total
(i64 max, 1, -1), total-overflow (i64 max, 1), total-cancel (a request
stream of one number that does not end, cancelled once a line arrives on
stdin), running
(1, 2, 3), running-overflow (i64 max, 1: the replies before the error),
running-gzip (Running over 200 numbers, the channel compressing).
"""

import json
import os
import sys
import tempfile
import threading

import grpc
from _generated import compile_and_import, find_tool

PROTO_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    "examples", "calculator")

# google.rpc.Status without googleapis-common-protos (not in Debian's python3-grpcio).
STATUS_PROTO = """syntax = "proto3";
package google.rpc;
import "google/protobuf/any.proto";
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
"""


def load():
    protoc = find_tool("protoc")
    if protoc is None:
        sys.exit("protoc not found (install the protobuf-compiler package)")
    status_dir = tempfile.mkdtemp(prefix="parley-grpc-status-")
    with open(os.path.join(status_dir, "status.proto"), "w") as f:
        f.write(STATUS_PROTO)
    modules, error = compile_and_import(
        lambda out: [protoc, "--python_out=" + out, "-I", PROTO_DIR, "-I", status_dir,
                     "calculator.proto", "status.proto"],
        ["calculator_pb2", "status_pb2"], "parley-grpc-client-")
    if modules is None:
        sys.exit(error)
    return modules


def outcome_of(error, pb, status_pb):
    """An RpcError as JSON: its code, details and decoded status details."""
    result = {"code": error.code().value[0], "details": error.details()}
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb.Status.FromString(value)
            result["status"] = {"code": status.code, "message": status.message,
                                "details": [d.type_url for d in status.details]}
            for detail in status.details:
                invalid = pb.InvalidOperation()
                if detail.Unpack(invalid):
                    result["invalid_operation"] = {"what_op": invalid.whatOp, "why": invalid.why}
    return result


def tags(metadata):
    """The x-request-* entries of a metadata list, as a dict."""
    return {k: v for k, v in (metadata or ()) if k.startswith("x-request-")}


I64_MAX = 2 ** 63 - 1


def streams(channel, scenario, pb, status_pb):
    """The streaming scenarios: prints one JSON line, as main() does."""
    options = {}
    if scenario == "running-gzip":
        options["compression"] = grpc.Compression.Gzip
    range_ = channel.unary_stream("/interop.Calculator/Range",
                                  request_serializer=pb.RangeRequest.SerializeToString,
                                  response_deserializer=pb.Number.FromString)
    total = channel.stream_unary("/interop.Calculator/Total",
                                 request_serializer=pb.Number.SerializeToString,
                                 response_deserializer=pb.SumReply.FromString)
    running = channel.stream_stream("/interop.Calculator/Running",
                                    request_serializer=pb.Number.SerializeToString,
                                    response_deserializer=pb.SumReply.FromString)

    def numbers(*values):
        for value in values:
            yield pb.Number(value=value)

    got = []
    try:
        if scenario == "range":
            call = range_(pb.RangeRequest(start=5, count=4), timeout=20,
                          metadata=[("x-request-tag", "py-r")])
            got = [n.value for n in call]
            print(json.dumps({"code": 0, "values": got,
                              "headers": tags(call.initial_metadata()),
                              "trailers": tags(call.trailing_metadata())}))
        elif scenario == "range-invalid":
            list(range_(pb.RangeRequest(start=0, count=-1), timeout=20))
            print(json.dumps({"code": 0}))
        elif scenario == "range-many":
            values = [n.value for n in range_(pb.RangeRequest(start=-7, count=100_000), timeout=60)]
            print(json.dumps({"code": 0, "count": len(values),
                              "ok": values == list(range(-7, 100_000 - 7))}))
        elif scenario == "range-deadline":
            for n in range_(pb.RangeRequest(start=0, count=1_000_000, delay_ms=10), timeout=0.3):
                got.append(n.value)
            print(json.dumps({"code": 0}))
        elif scenario == "range-cancel":
            call = range_(pb.RangeRequest(start=0, count=1_000_000, delay_ms=5), timeout=20)
            for n in call:
                got.append(n.value)
                if len(got) == 3:
                    call.cancel()
            print(json.dumps({"code": 0}))
        elif scenario == "total":
            print(json.dumps({"code": 0, "total": total(numbers(I64_MAX, 1, -1), timeout=20).total}))
        elif scenario == "total-overflow":
            total(numbers(I64_MAX, 1), timeout=20)
            print(json.dumps({"code": 0}))
        elif scenario == "total-cancel":
            done = threading.Event()

            def waiting():
                yield pb.Number(value=1)
                done.wait(20)  # a request stream that does not end by itself

            future = total.future(waiting(), timeout=20)
            sys.stdin.readline()  # the server's handler has read the first number
            cancelled = future.cancel()
            done.set()
            print(json.dumps({"code": 1, "cancelled": cancelled}))
        elif scenario in ("running", "running-gzip"):
            count = 3 if scenario == "running" else 200
            got = [r.total for r in running(numbers(*range(1, count + 1)), timeout=20, **options)]
            print(json.dumps({"code": 0, "last": got[-1], "count": len(got)}))
        elif scenario == "running-overflow":
            for r in running(numbers(I64_MAX, 1), timeout=20):
                got.append(r.total)
            print(json.dumps({"code": 0}))
    except grpc.RpcError as error:
        outcome = outcome_of(error, pb, status_pb)
        outcome["received"] = got
        print(json.dumps(outcome))


def main():
    target, scenario = sys.argv[1], sys.argv[2]
    pb, status_pb = load()
    if len(sys.argv) > 3:
        with open(sys.argv[3], "rb") as ca:
            channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(ca.read()))
    else:
        channel = grpc.insecure_channel(target)

    def method(name, request, reply):
        return channel.unary_unary("/interop.Calculator/" + name,
                                   request_serializer=request.SerializeToString,
                                   response_deserializer=reply.FromString)

    add = method("Add", pb.AddRequest, pb.AddReply)
    try:
        if scenario == "add":
            print(json.dumps({"code": 0, "sum": add(pb.AddRequest(num1=1, num2=2), timeout=20).sum}))
        elif scenario == "add-many":
            sums = [add(pb.AddRequest(num1=i, num2=i), timeout=20).sum for i in range(100)]
            print(json.dumps({"code": 0, "ok": sums == [2 * i for i in range(100)]}))
        elif scenario == "invalid":
            calculate = method("Calculate", pb.CalculateRequest, pb.CalculateReply)
            work = pb.Work(num1=1, num2=0, op=pb.DIVIDE)
            calculate(pb.CalculateRequest(logid=1, w=work), timeout=20)
            print(json.dumps({"code": 0}))
        elif scenario == "unknown":
            method("Nope", pb.Empty, pb.Empty)(pb.Empty(), timeout=20)
            print(json.dumps({"code": 0}))
        elif scenario == "deadline":
            method("Ping", pb.Empty, pb.Empty)(pb.Empty(), timeout=0.3)
            print(json.dumps({"code": 0}))
        elif scenario == "cancel":
            future = method("Ping", pb.Empty, pb.Empty).future(pb.Empty(), timeout=60)
            sys.stdin.readline()  # the server's handler has started
            print(json.dumps({"code": 1, "cancelled": future.cancel()}))
        elif scenario == "oversize":
            echo = method("Echo", pb.EchoMessage, pb.EchoMessage)
            echo(pb.EchoMessage(text="x" * 4096), timeout=20)
            print(json.dumps({"code": 0}))
        elif scenario == "metadata":
            reply, call = add.with_call(pb.AddRequest(num1=1, num2=2), timeout=20,
                                        metadata=[("x-request-tag", "py-7")])
            print(json.dumps({"code": 0, "sum": reply.sum,
                              "headers": tags(call.initial_metadata()),
                              "trailers": tags(call.trailing_metadata())}))
        elif scenario == "metadata-error":
            calculate = method("Calculate", pb.CalculateRequest, pb.CalculateReply)
            work = pb.Work(num1=1, num2=0, op=pb.DIVIDE)
            try:
                calculate(pb.CalculateRequest(logid=1, w=work), timeout=20,
                          metadata=[("x-request-tag", "py-8")])
                print(json.dumps({"code": 0}))
            except grpc.RpcError as error:
                print(json.dumps({"code": error.code().value[0],
                                  "headers": tags(error.initial_metadata()),
                                  "trailers": tags(error.trailing_metadata())}))
        elif scenario in ("gzip", "gzip-bomb"):
            echo = method("EchoBinary", pb.BinaryMessage, pb.BinaryMessage)
            data = b"compressible " * 1000 if scenario == "gzip" else bytes(1 << 20)
            reply = echo(pb.BinaryMessage(data=data), timeout=20,
                         compression=grpc.Compression.Gzip)
            print(json.dumps({"code": 0, "length": len(reply.data),
                              "same": reply.data == data}))
        elif scenario.startswith(("range", "total", "running")):
            streams(channel, scenario, pb, status_pb)
        else:
            sys.exit("unknown scenario " + scenario)
    except grpc.RpcError as error:
        print(json.dumps(outcome_of(error, pb, status_pb)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
