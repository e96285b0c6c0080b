#!/usr/bin/env python3
"""A real gRPC server (Debian's python3-grpcio) of the Calculator's Add, for
what a Connect client must make of a server that speaks gRPC, not Connect.

Usage: /usr/bin/python3 grpc_calculator_server.py [--cert PEM --key PEM]
           [--proto-dir DIR] [--port P] [--gzip]

Serves `interop.Calculator/Add`, `Calculate`, `Ping`, `EchoBinary` and the
streaming `Range`, `Total` and `Running` with a generic handler (no service
stubs), its messages from protoc-generated code
(tests/interop/python/_generated.py), for parley's gRPC client:
- every call echoes a request header `x-request-tag` as the response header
  `x-request-tag` and the trailer `x-request-tag-end`;
- Calculate fails as the contract says (DIVIDE by 0: status 3, its message,
  `grpc-status-details-bin` a google.rpc.Status holding an
  interop.InvalidOperation);
- Ping waits until the call ends (deadline or cancellation) and prints
  `ping started remaining=<seconds or None>` and `ping ended` to stdout;
- Range, Total, Running as the contract says ("Streaming and gRPC"), their
  InvalidOperation as Calculate's; Range prints `range started
  remaining=<seconds or None>` and `range ended sent=<n> active=<bool>`
  (active false: the caller cancelled, or its deadline passed), Total
  prints `total read=<n> active=<bool>` when its request stream ends or
  fails (200 ms later: a cancel may reach grpcio as the request's end, then
  its reset);
- --gzip compresses every reply (grpc.Compression.Gzip).
With --cert and --key it serves TLS (ALPN h2, gRPC's only protocol) and prints
`listening grpcs://127.0.0.1:PORT`; without, cleartext HTTP/2 (prior
knowledge) and `listening grpc://127.0.0.1:PORT`. Runs until SIGTERM or
SIGINT (exit 0).

A Connect client's POST (no `te: trailers`, `application/proto`) never
reaches the handler: grpcio answers it HTTP 200, `application/grpc`,
`grpc-status: 2` and an empty body (over TLS, where fetch speaks HTTP/2), or
drops an HTTP/1.1 connection (cleartext).
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc
from _generated import compile_and_import, find_tool

DEFAULT_PROTO_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    "examples", "calculator")


def log(text):
    print("grpc_calculator_server: " + text, file=sys.stderr, flush=True)


def load_calculator(proto_dir):
    """Returns (calculator_pb2, None), or (None, an error message)."""
    protoc = find_tool("protoc")
    if protoc is None:
        return None, "protoc not found (install the protobuf-compiler package)"
    modules, error = compile_and_import(
        lambda out: [protoc, "--python_out=" + out, "-I", proto_dir, "calculator.proto"],
        ["calculator_pb2"], "parley-grpc-server-")
    return (None, error) if modules is None else (modules[0], None)


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def status_details(code, message, detail):
    """google.rpc.Status{code, message, details: [Any(detail)]}, encoded by
    hand: Debian has no googleapis-common-protos."""
    from google.protobuf import any_pb2
    packed = any_pb2.Any()
    packed.Pack(detail)
    text = message.encode()
    any_bytes = packed.SerializeToString()
    return (b"\x08" + varint(code) + b"\x12" + varint(len(text)) + text
            + b"\x1a" + varint(len(any_bytes)) + any_bytes)


def main():
    parser = argparse.ArgumentParser(description="Calculator/Add over gRPC (python3-grpcio)")
    parser.add_argument("--cert", help="PEM certificate: serve TLS")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--gzip", action="store_true", help="compress every reply")
    args = parser.parse_args()
    pb, problem = load_calculator(os.path.abspath(args.proto_dir))
    if problem is not None:
        log(problem)
        return 2

    def echo_tag(context):
        tag = dict(context.invocation_metadata()).get("x-request-tag")
        if tag is not None:
            context.send_initial_metadata([("x-request-tag", tag)])
            context.set_trailing_metadata([("x-request-tag-end", tag)])

    def add(request, context):
        echo_tag(context)
        return pb.AddReply(sum=request.num1 + request.num2)

    def calculate(request, context):
        w = request.w
        if w.op == 4 and w.num2 == 0:
            why = pb.InvalidOperation(whatOp=4, why="Cannot divide by 0")
            context.set_trailing_metadata([
                ("grpc-status-details-bin", status_details(3, why.why, why)),
            ])
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, why.why)
        ops = {1: lambda a, b: a + b, 2: lambda a, b: a - b, 3: lambda a, b: a * b,
               4: lambda a, b: int(a / b)}
        return pb.CalculateReply(value=ops[w.op](w.num1, w.num2))

    def ping(request, context):
        print("ping started remaining=%s" % context.time_remaining(), flush=True)
        while context.is_active():
            time.sleep(0.01)
        print("ping ended", flush=True)
        return pb.Empty()

    def echo_binary(request, context):
        echo_tag(context)
        return request

    I64 = (-(2 ** 63), 2 ** 63 - 1)

    def invalid(context, why):
        detail = pb.InvalidOperation(whatOp=1, why=why)
        context.set_trailing_metadata([
            ("grpc-status-details-bin", status_details(3, why, detail)),
        ])
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, why)

    def range_(request, context):
        echo_tag(context)
        if not 0 <= request.count <= 1_000_000:
            invalid(context, "invalid count")
        print("range started remaining=%s" % context.time_remaining(), flush=True)
        sent = 0
        try:
            for i in range(request.count):
                if request.delay_ms > 0:
                    time.sleep(request.delay_ms / 1000)
                if not context.is_active():
                    break
                yield pb.Number(value=request.start + i)
                sent += 1
        finally:
            print("range ended sent=%d active=%s" % (sent, context.is_active()), flush=True)

    def total(request_iterator, context):
        echo_tag(context)
        read, sum_ = 0, 0
        try:
            for number in request_iterator:
                read += 1
                sum_ += number.value
        finally:
            # A caller's cancel may reach grpcio as the request's end first,
            # its RST_STREAM a moment later: give it 200 ms to show.
            for _ in range(20):
                if not context.is_active():
                    break
                time.sleep(0.01)
            print("total read=%d active=%s" % (read, context.is_active()), flush=True)
        if not I64[0] <= sum_ <= I64[1]:
            invalid(context, "overflow")
        return pb.SumReply(total=sum_)

    def running(request_iterator, context):
        echo_tag(context)
        sum_ = 0
        for number in request_iterator:
            sum_ += number.value
            if not I64[0] <= sum_ <= I64[1]:
                invalid(context, "overflow")
            yield pb.SumReply(total=sum_)

    def unary(fn, request, reply):
        return grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=request.FromString,
            response_serializer=reply.SerializeToString)

    handler = grpc.method_handlers_generic_handler("interop.Calculator", {
        "Add": unary(add, pb.AddRequest, pb.AddReply),
        "Calculate": unary(calculate, pb.CalculateRequest, pb.CalculateReply),
        "Ping": unary(ping, pb.Empty, pb.Empty),
        "EchoBinary": unary(echo_binary, pb.BinaryMessage, pb.BinaryMessage),
        "Range": grpc.unary_stream_rpc_method_handler(
            range_, request_deserializer=pb.RangeRequest.FromString,
            response_serializer=pb.Number.SerializeToString),
        "Total": grpc.stream_unary_rpc_method_handler(
            total, request_deserializer=pb.Number.FromString,
            response_serializer=pb.SumReply.SerializeToString),
        "Running": grpc.stream_stream_rpc_method_handler(
            running, request_deserializer=pb.Number.FromString,
            response_serializer=pb.SumReply.SerializeToString),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=[handler],
                         compression=grpc.Compression.Gzip if args.gzip else None)
    address = "127.0.0.1:%d" % args.port
    if args.cert:
        with open(args.cert, "rb") as cert, open(args.key, "rb") as key:
            credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
        port = server.add_secure_port(address, credentials)
        scheme = "grpcs"
    else:
        port = server.add_insecure_port(address)
        scheme = "grpc"
    server.start()
    stopped = threading.Event()

    def stop(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening %s://127.0.0.1:%d" % (scheme, port), flush=True)
    stopped.wait()
    server.stop(grace=2).wait()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
