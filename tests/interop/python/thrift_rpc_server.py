#!/usr/bin/env python3
"""The interop Calculator as an Apache Thrift server, on Debian's python3-thrift and thrift-compiler.

Usage: /usr/bin/python3 thrift_rpc_server.py [--transport framed|buffered|http]
           [--protocol binary|compact] [--multiplexed SERVICE_NAME] [--thrift-dir DIR]

At start it runs `thrift --gen py -out TMP DIR/calculator.thrift` (DIR defaults
to the repository's copy in `examples/calculator`), imports the generated
`interop.Calculator` and `interop.ttypes` and removes TMP. Then it binds
127.0.0.1 on an ephemeral port, prints one line, `listening
tcp://127.0.0.1:PORT` (or `listening http://127.0.0.1:PORT/thrift`), and serves
the Calculator of shared/interop/README.md until SIGTERM or SIGINT (exit 0).
Logs go to stderr.

The stack is Apache Thrift's own: TThreadedServer (one thread per connection)
with TFramedTransport or TBufferedTransport and TBinaryProtocol or
TCompactProtocol, or THttpServer for `--transport http`. THttpServer ignores
the request path: it answers a POST on any path, /thrift included. With
`--multiplexed NAME` the Calculator processor is registered under NAME in a
TMultiplexedProcessor (calls must be named `NAME:method`; an unprefixed call
closes the connection, as TMultiplexedProcessor does).

Two thin layers make the stock stack follow the contract:
- the generated Processor does not look at the message type, so a wrapper
  answers a message that is not CALL or ONEWAY with TApplicationException
  INVALID_MESSAGE_TYPE (same seqid; the connection stays usable);
- TFramedTransport would wait for any declared frame length, so a frame longer
  than 16 MiB (or negative) closes the connection; the protocols refuse strings
  over 16 MiB and containers of more than 2^24 elements (the connection closes).

Arguments of the wrong type are skipped by the generated code (Thrift's rule),
so the handler sees them missing: a missing number counts as 0, a missing
string, binary, list or Shape as the empty value.
"""

import argparse
import logging
import os
import signal
import sys
import threading
from struct import unpack
from _generated import compile_and_import, find_tool

try:
    from thrift.Thrift import TApplicationException, TMessageType, TProcessor, TType
    from thrift.TMultiplexedProcessor import TMultiplexedProcessor
    from thrift.protocol import TBinaryProtocol, TCompactProtocol
    from thrift.server import THttpServer, TServer
    from thrift.transport import TSocket, TTransport
except ImportError as error:  # pragma: no cover - depends on the machine
    print("cannot import thrift (%s): run with an interpreter that has python3-thrift, "
          "such as /usr/bin/python3" % error, file=sys.stderr)
    sys.exit(2)

I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
MAX_FRAME = 16 * 2**20
MAX_STRING = 16 * 2**20
MAX_CONTAINER = 2**24

TRANSPORTS = ["framed", "buffered", "http"]
PROTOCOLS = ["binary", "compact"]
HTTP_PATH = "/thrift"
# The repository's copy of the contract's calculator.thrift.
DEFAULT_THRIFT_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    "examples", "calculator")

# Filled in by load_thrift().
Calculator = None  # interop.Calculator
ttypes = None  # interop.ttypes


def log(text):
    print("thrift_rpc_server: " + text, file=sys.stderr, flush=True)


def load_thrift(thrift_dir):
    """Compiles calculator.thrift with the thrift compiler and imports the generated package.

    Returns an error message, or None on success."""
    global Calculator, ttypes
    compiler = find_tool("thrift")
    if compiler is None:
        return "thrift not found (install the thrift-compiler package)"
    source = os.path.join(thrift_dir, "calculator.thrift")
    if not os.path.isfile(source):
        return "no calculator.thrift in %s (give --thrift-dir)" % thrift_dir
    modules, error = compile_and_import(
        lambda out: [compiler, "--gen", "py", "-out", out, source],
        ["interop.Calculator", "interop.ttypes"], "parley-thrift-server-")
    if error is None:
        Calculator, ttypes = modules
    return error


# --- the Calculator --------------------------------------------------------------------


def invalid_operation(what_op, why):
    return ttypes.InvalidOperation(whatOp=what_op, why=why)


def number(value):
    return 0 if value is None else value


def i32(value, op):
    if not I32_MIN <= value <= I32_MAX:
        raise invalid_operation(op, "overflow")
    return value


class Handler:
    """Every method of the contract; InvalidOperation travels as the declared exception."""

    def ping(self):
        return None

    def add(self, num1, num2):
        return i32(number(num1) + number(num2), 1)

    def calculate(self, logid, w):
        if w is None:
            w = ttypes.Work()
        a, b, op = number(w.num1), number(w.num2), number(w.op)
        if op == ttypes.Operation.ADD:
            value = a + b
        elif op == ttypes.Operation.SUBTRACT:
            value = a - b
        elif op == ttypes.Operation.MULTIPLY:
            value = a * b
        elif op == ttypes.Operation.DIVIDE:
            if b == 0:
                raise invalid_operation(op, "Cannot divide by 0")
            value = abs(a) // abs(b)  # truncates toward zero
            if (a < 0) != (b < 0):
                value = -value
        else:
            raise invalid_operation(op, "Invalid operation")
        return i32(value, op)

    def echo(self, text):
        return "" if text is None else text

    def echoBinary(self, data):
        return b"" if data is None else data

    def echoShape(self, s):
        return ttypes.Shape() if s is None else s

    def sum(self, values):
        total = sum(values or [])  # Python integers: exact
        if not I64_MIN <= total <= I64_MAX:
            raise invalid_operation(1, "overflow")
        return total

    def zip(self):
        return None


# --- contract layers around the stock stack ----------------------------------------------


class ContractProcessor(TProcessor):
    """Answers a message that is not CALL or ONEWAY with INVALID_MESSAGE_TYPE, else delegates."""

    def __init__(self, inner):
        self.inner = inner
        self._on_message_begin = None

    def on_message_begin(self, func):
        # THttpServer uses this to answer ONEWAY calls at once.
        self._on_message_begin = func

    def process(self, iprot, oprot):
        (name, mtype, seqid) = iprot.readMessageBegin()
        if self._on_message_begin:
            self._on_message_begin(name, mtype, seqid)
        if mtype not in (TMessageType.CALL, TMessageType.ONEWAY):
            iprot.skip(TType.STRUCT)
            iprot.readMessageEnd()
            error = TApplicationException(TApplicationException.INVALID_MESSAGE_TYPE,
                                          "Invalid message type %d (expected CALL or ONEWAY)" % mtype)
            oprot.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)
            error.write(oprot)
            oprot.writeMessageEnd()
            oprot.trans.flush()
            return
        return self.inner.process(ReplayedMessage(iprot, (name, mtype, seqid)), oprot)


class ReplayedMessage(object):
    """The protocol `proto`, whose readMessageBegin returns the header already read.

    Not a TProtocolDecorator (like the library's StoredMessageProtocol), because
    TMultiplexedProcessor decorates it once more, and decorators do not nest."""

    def __init__(self, proto, message):
        self._proto = proto
        self._message = message

    def readMessageBegin(self):
        return self._message

    def __getattr__(self, name):
        return getattr(self._proto, name)


class BoundedFramedTransport(TTransport.TFramedTransport):
    """TFramedTransport that refuses (closes on) a frame length over MAX_FRAME or below 0."""

    def readFrame(self):
        trans = self._TFramedTransport__trans
        size, = unpack("!i", trans.readAll(4))
        if size < 0 or size > MAX_FRAME:
            raise TTransport.TTransportException(
                TTransport.TTransportException.SIZE_LIMIT,
                "a frame of %d bytes (the limit is %d)" % (size, MAX_FRAME))
        self._TFramedTransport__rbuf = TTransport.BufferIO(trans.readAll(size) if size else b"")


class BoundedFramedTransportFactory(object):
    def getTransport(self, trans):
        return BoundedFramedTransport(trans)


class ListenOnce(TSocket.TServerSocket):
    """A server socket that binds when asked first (so the port is known before serve())."""

    def listen(self):
        if self.handle is None:
            super().listen()


def protocol_factory(name):
    if name == "compact":
        return TCompactProtocol.TCompactProtocolFactory(
            string_length_limit=MAX_STRING, container_length_limit=MAX_CONTAINER)
    return TBinaryProtocol.TBinaryProtocolFactory(
        string_length_limit=MAX_STRING, container_length_limit=MAX_CONTAINER)


def build_processor(multiplexed):
    processor = Calculator.Processor(Handler())
    if multiplexed:
        mux = TMultiplexedProcessor()
        mux.registerProcessor(multiplexed, processor)
        processor = mux
    return ContractProcessor(processor)


def main():
    parser = argparse.ArgumentParser(description="The interop Calculator on Apache Thrift's Python server stack")
    parser.add_argument("--transport", default="framed", choices=TRANSPORTS)
    parser.add_argument("--protocol", default="binary", choices=PROTOCOLS)
    parser.add_argument("--multiplexed", metavar="SERVICE_NAME", default=None,
                        help="register the Calculator under this name in a TMultiplexedProcessor")
    parser.add_argument("--thrift-dir", default=DEFAULT_THRIFT_DIR,
                        help="the directory of calculator.thrift (default: %(default)s)")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="thrift_rpc_server: %(levelname)s %(name)s: %(message)s")
    problem = load_thrift(os.path.abspath(args.thrift_dir))
    if problem is not None:
        log(problem)
        return 2

    processor = build_processor(args.multiplexed)
    pfactory = protocol_factory(args.protocol)
    if args.transport == "http":
        server = THttpServer.THttpServer(processor, ("127.0.0.1", 0), pfactory)
        host, port = server.httpd.server_address[:2]
        url = "http://%s:%d%s" % (host, port, HTTP_PATH)
    else:
        server_socket = ListenOnce(host="127.0.0.1", port=0)
        server_socket.listen()
        tfactory = (BoundedFramedTransportFactory() if args.transport == "framed"
                    else TTransport.TBufferedTransportFactory())
        server = TServer.TThreadedServer(processor, server_socket, tfactory, pfactory, daemon=True)
        host, port = server_socket.handle.getsockname()[:2]
        url = "tcp://%s:%d" % (host, port)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # serve() blocks for good: run it in a daemon thread, and leave when a signal comes.
    serving = threading.Thread(target=server.serve, name="serve", daemon=True)
    serving.start()
    print("listening " + url, flush=True)
    while not stop.wait(0.2):
        if not serving.is_alive():
            log("the server thread ended")
            return 1
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
