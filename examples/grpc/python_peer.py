#!/usr/bin/env python3
"""Python's own gRPC (Debian's python3-grpcio) beside parley, for
`deno task example:grpc`: generic handlers and generic calls (no service
stubs), the messages generated at start by protoc from calculator.proto.

Usage:
  python3 python_peer.py client HOST:PORT   calls a gRPC calculator, prints what it got
  python3 python_peer.py server             serves Add and Range; prints `listening grpc://127.0.0.1:PORT`
"""

import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc

PROTO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "calculator")


def load_messages():
    """calculator_pb2, compiled by protoc into a temporary directory."""
    protoc = "/usr/bin/protoc" if os.access("/usr/bin/protoc", os.X_OK) else shutil.which("protoc")
    if protoc is None:
        sys.exit("protoc not found: apt-get install protobuf-compiler")
    out = tempfile.mkdtemp(prefix="parley-example-grpc-")
    try:
        subprocess.run([protoc, "--python_out=" + out, "-I", PROTO_DIR, "calculator.proto"], check=True)
        sys.path.insert(0, out)
        return importlib.import_module("calculator_pb2")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def client(target, pb):
    channel = grpc.insecure_channel(target)

    def unary(name, request, reply):
        return channel.unary_unary("/interop.Calculator/" + name,
                                   request_serializer=request.SerializeToString,
                                   response_deserializer=reply.FromString)

    add = unary("Add", pb.AddRequest, pb.AddReply)
    reply, call = add.with_call(pb.AddRequest(num1=1, num2=2), timeout=10,
                                metadata=[("x-request-tag", "py-1")])
    tags = dict(call.initial_metadata()) | dict(call.trailing_metadata())
    print("python → parley: Add(1, 2) =", reply.sum,
          "| x-request-tag:", tags.get("x-request-tag"), "| x-request-tag-end:", tags.get("x-request-tag-end"))
    numbers = channel.unary_stream("/interop.Calculator/Range",
                                   request_serializer=pb.RangeRequest.SerializeToString,
                                   response_deserializer=pb.Number.FromString)
    print("python → parley: Range(start=5, count=4) streams",
          [n.value for n in numbers(pb.RangeRequest(start=5, count=4), timeout=10)])
    total = channel.stream_unary("/interop.Calculator/Total",
                                 request_serializer=pb.Number.SerializeToString,
                                 response_deserializer=pb.SumReply.FromString)
    big = [pb.Number(value=2**62), pb.Number(value=2**62 - 1), pb.Number(value=-5)]
    print("python → parley: Total(2**62, 2**62 - 1, -5) =", total(iter(big), timeout=10).total)
    running = channel.stream_stream("/interop.Calculator/Running",
                                    request_serializer=pb.Number.SerializeToString,
                                    response_deserializer=pb.SumReply.FromString)
    print("python → parley: Running(1, 2, 3, 4) streams",
          [r.total for r in running(iter(pb.Number(value=v) for v in (1, 2, 3, 4)), timeout=10)])
    calculate = unary("Calculate", pb.CalculateRequest, pb.CalculateReply)
    try:
        calculate(pb.CalculateRequest(logid=1, w=pb.Work(num1=1, num2=0, op=pb.DIVIDE)), timeout=10)
    except grpc.RpcError as error:
        print("python → parley: Calculate(1 / 0) failed:", error.code().name, repr(error.details()))


class Server:
    def __init__(self, pb):
        self.pb = pb

    def add(self, request, context):
        return self.pb.AddReply(sum=request.num1 + request.num2)

    def range(self, request, context):
        for i in range(request.count):
            yield self.pb.Number(value=request.start + i)


def server(pb):
    calculator = Server(pb)
    handlers = grpc.method_handlers_generic_handler("interop.Calculator", {
        "Add": grpc.unary_unary_rpc_method_handler(
            calculator.add, request_deserializer=pb.AddRequest.FromString,
            response_serializer=pb.AddReply.SerializeToString),
        "Range": grpc.unary_stream_rpc_method_handler(
            calculator.range, request_deserializer=pb.RangeRequest.FromString,
            response_serializer=pb.Number.SerializeToString),
    })
    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handlers])
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    print("listening grpc://127.0.0.1:%d" % port, flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(0.2):
        pass
    grpc_server.stop(1).wait()


def main():
    pb = load_messages()
    if sys.argv[1:2] == ["client"] and len(sys.argv) == 3:
        client(sys.argv[2], pb)
    elif sys.argv[1:] == ["server"]:
        server(pb)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
