#!/usr/bin/env python3
"""A real gRPC server (Debian's python3-grpcio) of the Calculator's Add, for
what a Connect client must make of a server that speaks gRPC, not Connect.

Usage: /usr/bin/python3 grpc_calculator_server.py [--cert PEM --key PEM]
           [--proto-dir DIR] [--port P]

Serves `interop.Calculator/Add` with a generic handler (no service stubs),
its messages from protoc-generated code (tests/interop/python/_generated.py).
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


def main():
    parser = argparse.ArgumentParser(description="Calculator/Add over gRPC (python3-grpcio)")
    parser.add_argument("--cert", help="PEM certificate: serve TLS")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    pb, problem = load_calculator(os.path.abspath(args.proto_dir))
    if problem is not None:
        log(problem)
        return 2

    def add(request, context):
        return pb.AddReply(sum=request.num1 + request.num2)

    handler = grpc.method_handlers_generic_handler("interop.Calculator", {
        "Add": grpc.unary_unary_rpc_method_handler(
            add,
            request_deserializer=pb.AddRequest.FromString,
            response_serializer=pb.AddReply.SerializeToString,
        ),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler])
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
