#!/usr/bin/env python3
"""The interop Calculator as a protobuf-envelope server over TCP, on python3-protobuf and protoc.

Usage: /usr/bin/python3 protobuf_rpc_server.py [--framing length-prefix|varint]
           [--proto-dir DIR] [--port P]

At start it runs `protoc --python_out=TMP -I DIR calculator.proto
envelope.proto` (DIR defaults to the repository's copy in `examples/calculator`),
imports the generated modules and removes TMP. Then it binds 127.0.0.1 (port 0
by default), prints `listening tcp://127.0.0.1:PORT` and serves the Calculator
of shared/interop/README.md until SIGTERM or SIGINT (exit 0).

Each frame is one `rpc.Request {id, method, payload}`: `length-prefix` frames
are a 4-byte big-endian length then the envelope, `varint` frames protobuf's
own delimited format (a base-128 varint length, then the envelope). Replies
are `rpc.Response {id, payload | error {code, message, details}}`, one frame
each. Every request with an id runs in its own thread and replies are written
under a lock, so they may come out of order; notifications (id 0) run in
order, before the next frame is read, and get no reply.

Errors: InvalidOperation is `Error {code 1, message why, details
InvalidOperation}`; an unknown method is -32601; a payload that does not
decode as the method's request is -32602; an envelope with no method is
-32600; a frame that is not an envelope is -32700 with id 0 (the framing is
intact, so the connection goes on); a frame longer than 16 MiB, or a varint
length of more than 10 bytes, closes the connection.
"""

import argparse
import os
import signal
import socketserver
import sys
import threading

from google.protobuf.message import DecodeError
from _generated import compile_and_import, find_tool

I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
MAX_FRAME = 16 * 2**20

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

SERVICE = "interop.Calculator/"
FRAMINGS = ["length-prefix", "varint"]
# The repository's copy of the contract's .proto files.
DEFAULT_PROTO_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    "examples", "calculator")

# Filled in by load_protos().
pb = None  # calculator_pb2
rpc = None  # envelope_pb2


def log(text):
    print("protobuf_rpc_server: " + text, file=sys.stderr, flush=True)


def load_protos(proto_dir):
    """Compiles calculator.proto and envelope.proto with protoc and imports them.

    Returns an error message, or None on success."""
    global pb, rpc
    protoc = find_tool("protoc")
    if protoc is None:
        return "protoc not found (install the protobuf-compiler package)"
    for name in ("calculator.proto", "envelope.proto"):
        if not os.path.isfile(os.path.join(proto_dir, name)):
            return "no %s in %s (give --proto-dir)" % (name, proto_dir)
    modules, error = compile_and_import(
        lambda out: [protoc, "--python_out=" + out, "-I", proto_dir, "calculator.proto", "envelope.proto"],
        ["calculator_pb2", "envelope_pb2"], "parley-protobuf-server-")
    if error is None:
        pb, rpc = modules
    return error


class RpcError(Exception):
    def __init__(self, code, message, details=b""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def invalid_operation(what_op, why):
    return RpcError(1, why, pb.InvalidOperation(whatOp=what_op, why=why).SerializeToString())


def i32(value, op):
    if not I32_MIN <= value <= I32_MAX:
        raise invalid_operation(op, "overflow")
    return value


# --- the Calculator --------------------------------------------------------------------


def m_ping(request):
    return pb.Empty()


def m_add(request):
    return pb.AddReply(sum=i32(request.num1 + request.num2, 1))


def m_calculate(request):
    w = request.w
    a, b, op = w.num1, w.num2, w.op
    if op == pb.ADD:
        value = a + b
    elif op == pb.SUBTRACT:
        value = a - b
    elif op == pb.MULTIPLY:
        value = a * b
    elif op == pb.DIVIDE:
        if b == 0:
            raise invalid_operation(op, "Cannot divide by 0")
        value = abs(a) // abs(b)  # truncates toward zero
        if (a < 0) != (b < 0):
            value = -value
    else:
        raise invalid_operation(op, "Invalid operation")
    return pb.CalculateReply(value=i32(value, op))


def m_echo(request):
    return pb.EchoMessage(text=request.text)


def m_echo_binary(request):
    return pb.BinaryMessage(data=request.data)


def m_echo_shape(request):
    return request


def m_sum(request):
    total = sum(request.values)  # Python integers: exact
    if not I64_MIN <= total <= I64_MAX:
        raise invalid_operation(1, "overflow")
    return pb.SumReply(total=total)


def m_zip(request):
    return pb.Empty()


def methods():
    """method name -> (request message type, function)"""
    return {
        SERVICE + "Ping": (pb.Empty, m_ping),
        SERVICE + "Add": (pb.AddRequest, m_add),
        SERVICE + "Calculate": (pb.CalculateRequest, m_calculate),
        SERVICE + "Echo": (pb.EchoMessage, m_echo),
        SERVICE + "EchoBinary": (pb.BinaryMessage, m_echo_binary),
        SERVICE + "EchoShape": (pb.Shape, m_echo_shape),
        SERVICE + "Sum": (pb.SumRequest, m_sum),
        SERVICE + "Zip": (pb.Empty, m_zip),
    }


METHODS = {}


def call(method_name, payload):
    """Runs a method; returns an rpc.Response without its id."""
    try:
        if not method_name:
            raise RpcError(INVALID_REQUEST, "Invalid request: no method")
        entry = METHODS.get(method_name)
        if entry is None:
            raise RpcError(METHOD_NOT_FOUND, "Method not found: %s" % method_name)
        request_type, fn = entry
        try:
            request = request_type.FromString(payload)
        except (DecodeError, UnicodeDecodeError) as error:
            raise RpcError(INVALID_PARAMS, "Invalid params: the payload is not a %s (%s)" % (
                request_type.DESCRIPTOR.full_name, error))
        return rpc.Response(payload=fn(request).SerializeToString())
    except RpcError as error:
        return rpc.Response(error=rpc.Error(code=error.code, message=error.message, details=error.details))
    except Exception as error:  # noqa: BLE001 - a server must answer
        return rpc.Response(error=rpc.Error(code=INTERNAL_ERROR, message="Internal error: %s" % error))


# --- the connection ---------------------------------------------------------------------


class BadStream(Exception):
    """The framing is broken: the connection cannot go on."""


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class Handler(socketserver.StreamRequestHandler):
    framing = "length-prefix"  # set by main()

    def setup(self):
        super().setup()
        self.write_lock = threading.Lock()

    def send(self, response):
        body = response.SerializeToString()
        if self.framing == "length-prefix":
            data = len(body).to_bytes(4, "big") + body
        else:
            data = varint(len(body)) + body
        with self.write_lock:
            try:
                self.request.sendall(data)
            except OSError:
                pass

    def _read(self, n):
        """n bytes, or None at a clean end of stream before the first byte."""
        data = self.rfile.read(n)
        if len(data) == n:
            return data
        if not data:
            return None
        raise BadStream("the stream ended inside a frame")

    def read_frame(self):
        """The next frame's body, or None at the end of the stream."""
        if self.framing == "length-prefix":
            head = self._read(4)
            if head is None:
                return None
            n = int.from_bytes(head, "big")
        else:
            n = 0
            shift = 0
            while True:
                byte = self._read(1)
                if byte is None:
                    if shift:
                        raise BadStream("the stream ended inside a varint length")
                    return None
                n |= (byte[0] & 0x7F) << shift
                shift += 7
                if not byte[0] & 0x80:
                    break
                if shift >= 70:
                    raise BadStream("a varint length of more than 10 bytes")
        if n > MAX_FRAME:
            raise BadStream("a frame of %d bytes (more than %d)" % (n, MAX_FRAME))
        body = self._read(n) if n else b""
        if body is None:
            raise BadStream("the stream ended inside a frame")
        return body

    def answer(self, msgid, method_name, payload):
        response = call(method_name, payload)
        response.id = msgid
        self.send(response)

    def handle(self):
        workers = []
        try:
            while True:
                try:
                    body = self.read_frame()
                except OSError:
                    break
                if body is None:
                    break
                try:
                    request = rpc.Request.FromString(body)
                except (DecodeError, UnicodeDecodeError) as error:
                    self.send(rpc.Response(id=0, error=rpc.Error(
                        code=PARSE_ERROR, message="Parse error: not an rpc.Request (%s)" % error)))
                    continue
                if request.id == 0:
                    call(request.method, request.payload)  # a notification: no reply
                    continue
                worker = threading.Thread(
                    target=self.answer, args=(request.id, request.method, request.payload), daemon=True)
                worker.start()
                workers.append(worker)
                workers = [w for w in workers if w.is_alive()]
        except BadStream as error:
            log("bad stream, closing: %s" % error)
        for worker in workers:
            worker.join(timeout=15)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description="The interop Calculator over protobuf envelopes on TCP")
    parser.add_argument("--framing", default="length-prefix", choices=FRAMINGS)
    parser.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR,
                        help="the directory of calculator.proto and envelope.proto (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    problem = load_protos(os.path.abspath(args.proto_dir))
    if problem is not None:
        log(problem)
        return 2
    METHODS.update(methods())
    Handler.framing = args.framing
    server = Server(("127.0.0.1", args.port), Handler)

    def stop(signum, frame):
        # shutdown() waits for serve_forever to return: call it off this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print("listening tcp://%s:%d" % (host, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
