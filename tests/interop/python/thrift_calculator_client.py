#!/usr/bin/env python3
"""An Apache Thrift client of the interop Calculator, on Debian's python3-thrift and thrift-compiler.

Usage: /usr/bin/python3 thrift_calculator_client.py HOST PORT
           [--transport framed|buffered|http] [--protocol binary|compact]
           [--multiplexed SERVICE_NAME] [--path /thrift] [--thrift-dir DIR]

Exercises the whole contract of shared/interop/README.md against a running
calculator (`--codec thrift`), prints one line per check, and exits 1 with a
clear message on the first failure (2 on a usage, import, compiler or
connection error).

At start it runs `thrift --gen py -out TMP DIR/calculator.thrift` (DIR defaults
to the repository's copy in `examples/calculator`) and imports the generated
`interop.Calculator` and `interop.ttypes` from that temporary directory, which
it then removes.

The calls go through Apache Thrift's own Python client stack: the generated
Calculator.Client on TSocket + TFramedTransport (4-byte big-endian length
prefix, the default) or TBufferedTransport, or THttpClient posting to
http://HOST:PORT/thrift (`--path`); TBinaryProtocol (the default) or
TCompactProtocol; wrapped in TMultiplexedProtocol when `--multiplexed NAME` is
given (method names on the wire become `NAME:method`).

The last checks (not over HTTP) open raw sockets and send messages written by
hand with the library's protocol writers into a TMemoryBuffer, framed by this
script: an unknown method, a message type that is not CALL or ONEWAY,
fields of the wrong type (an argument, a field of a nested struct, a list of
other elements: skipped, read as zero values), a truncated message, a list header claiming 2^31-1
elements, a declared frame length of 0x7fffffff (framed) and 32 pipelined
calls (framed). Where the contract allows more than one outcome, the check line
says which one happened.

Debian's python3-thrift is importable by `/usr/bin/python3`; run it with that.
"""

import argparse
import importlib
import math
import os
import select
import socket
import struct
import sys
from _generated import compile_and_import, find_tool, tool_version

try:
    from thrift.Thrift import TApplicationException, TException, TMessageType, TType
    from thrift.protocol import TBinaryProtocol, TCompactProtocol, TMultiplexedProtocol
    from thrift.protocol.TProtocol import TProtocolException
    from thrift.transport import THttpClient, TSocket, TTransport
except ImportError as error:  # pragma: no cover - depends on the machine
    print("cannot import thrift (%s): run with an interpreter that has python3-thrift, "
          "such as /usr/bin/python3" % error, file=sys.stderr)
    sys.exit(2)

TIMEOUT = 10.0
QUIET = 0.3  # seconds to wait for a reply that must not come
PATIENCE = 2.0  # seconds a server gets to notice a truncated message by itself
I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)

TRANSPORTS = ["framed", "buffered", "http"]
PROTOCOLS = ["binary", "compact"]
APP_ERRORS = {
    0: "UNKNOWN", 1: "UNKNOWN_METHOD", 2: "INVALID_MESSAGE_TYPE", 3: "WRONG_METHOD_NAME",
    4: "BAD_SEQUENCE_ID", 5: "MISSING_RESULT", 6: "INTERNAL_ERROR", 7: "PROTOCOL_ERROR",
    8: "INVALID_TRANSFORM", 9: "INVALID_PROTOCOL", 10: "UNSUPPORTED_CLIENT_TYPE",
}
# The repository's copy of the contract's calculator.thrift.
DEFAULT_THRIFT_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    "examples", "calculator")

# Filled in by load_thrift().
Calculator = None  # interop.Calculator
ttypes = None  # interop.ttypes
COMPILER_VERSION = "?"


class CheckFailed(Exception):
    pass


class ConnectionClosed(CheckFailed):
    pass


def load_thrift(thrift_dir):
    """Compiles calculator.thrift with the thrift compiler and imports the generated package.

    Returns an error message, or None on success."""
    global Calculator, ttypes, COMPILER_VERSION
    compiler = find_tool("thrift")
    if compiler is None:
        return "thrift not found (install the thrift-compiler package)"
    source = os.path.join(thrift_dir, "calculator.thrift")
    if not os.path.isfile(source):
        return "no calculator.thrift in %s (give --thrift-dir)" % thrift_dir
    COMPILER_VERSION = tool_version(compiler, "Thrift version ")
    modules, error = compile_and_import(
        lambda out: [compiler, "--gen", "py", "-out", out, source],
        ["interop.Calculator", "interop.ttypes"], "parley-thrift-client-")
    if error is None:
        Calculator, ttypes = modules
    return error


def library_version():
    try:
        import importlib.metadata
        return importlib.metadata.version("thrift")
    except Exception:  # noqa: BLE001 - only for the summary line
        return "?"


def protocol_factory(name):
    if name == "compact":
        return TCompactProtocol.TCompactProtocolFactory()
    return TBinaryProtocol.TBinaryProtocolFactory()


# --- the generated client on Apache Thrift's transports ----------------------------------------


class Settings:
    def __init__(self, args):
        self.host = args.host
        self.port = args.port
        self.transport = args.transport
        self.protocol = args.protocol
        self.service = args.multiplexed
        self.path = args.path
        self.factory = protocol_factory(args.protocol)
        self.label = "%s+%s%s" % (args.transport, args.protocol, "+mux" if args.multiplexed else "")

    def wire_name(self, method):
        """A method's name on the wire: `SERVICE:method` when multiplexed."""
        return "%s%s%s" % (self.service, TMultiplexedProtocol.SEPARATOR, method) if self.service else method


class ThriftClient:
    """A generated Calculator.Client on its own connection (TSocket or THttpClient)."""

    def __init__(self, settings):
        self.settings = settings
        self.socket = None
        if settings.transport == "http":
            self.transport = THttpClient.THttpClient(
                "http://%s:%d%s" % (settings.host, settings.port, settings.path))
            self.transport.setTimeout(TIMEOUT * 1000)
        else:
            self.socket = TSocket.TSocket(settings.host, settings.port)
            self.socket.setTimeout(TIMEOUT * 1000)
            if settings.transport == "framed":
                self.transport = TTransport.TFramedTransport(self.socket)
            else:
                self.transport = TTransport.TBufferedTransport(self.socket)
        self.transport.open()
        protocol = settings.factory.getProtocol(self.transport)
        if settings.service:
            protocol = TMultiplexedProtocol.TMultiplexedProtocol(protocol, settings.service)
        self.client = Calculator.Client(protocol)

    def close(self):
        try:
            self.transport.close()
        except Exception:  # noqa: BLE001 - closing an already broken connection
            pass

    def pending(self, seconds):
        """True when bytes arrive on the socket within `seconds` (TCP transports only)."""
        readable, _, _ = select.select([self.socket.handle], [], [], seconds)
        return bool(readable)


class Context:
    """The main client, plus fresh connections for the raw checks."""

    def __init__(self, settings):
        self.settings = settings
        self.main = ThriftClient(settings)
        self.c = self.main.client

    def fresh_client(self):
        try:
            return ThriftClient(self.settings)
        except (OSError, TException) as error:
            raise CheckFailed("cannot open a new connection: %s" % error)

    def raw(self):
        try:
            return RawConnection(self.settings)
        except OSError as error:
            raise CheckFailed("cannot open a new connection: %s" % error)

    def close(self):
        self.main.close()


# --- raw messages, written with the library's protocol writers --------------------------------------


class SocketReader(TTransport.TTransportBase):
    """A read-only Thrift transport over a RawConnection's buffer and socket (for unframed replies)."""

    def __init__(self, conn):
        self.conn = conn

    def isOpen(self):
        return True

    def read(self, sz):
        if not self.conn.buf:
            self.conn.buf += self.conn.chunk()
        data = bytes(self.conn.buf[:sz])
        del self.conn.buf[:sz]
        return data


class Reply:
    def __init__(self, name, mtype, seqid, value):
        self.name = name
        self.mtype = mtype
        self.seqid = seqid
        self.value = value  # a TApplicationException, or the method's generated *_result

    def app_error(self):
        return self.value if self.mtype == TMessageType.EXCEPTION else None

    def __repr__(self):
        if self.mtype == TMessageType.EXCEPTION:
            return "EXCEPTION %r seqid %d: TApplicationException %s (%d) %r" % (
                self.name, self.seqid, APP_ERRORS.get(self.value.type, "?"), self.value.type, self.value.message)
        return "REPLY %r seqid %d: %s" % (self.name, self.seqid, short(self.value))


class RawConnection:
    """A plain TCP socket that writes hand-built Thrift messages and reads the replies."""

    def __init__(self, settings):
        self.settings = settings
        self.framed = settings.transport == "framed"
        self.sock = socket.create_connection((settings.host, settings.port), timeout=TIMEOUT)
        self.sock.settimeout(TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        self.sock.close()

    # writing

    def message(self, method, mtype, seqid, args=None, body=None):
        """One message's bytes: the header, then `args` (a generated struct) or what `body(prot)` writes."""
        memory = TTransport.TMemoryBuffer()
        prot = self.settings.factory.getProtocol(memory)
        prot.writeMessageBegin(self.settings.wire_name(method), mtype, seqid)
        if args is not None:
            args.write(prot)
        elif body is not None:
            if body(prot) is False:  # a deliberately unfinished message
                return memory.getvalue()
        prot.writeMessageEnd()
        return memory.getvalue()

    def frame(self, data):
        return struct.pack("!i", len(data)) + data if self.framed else data

    def send(self, data):
        self.sock.sendall(self.frame(data))

    def send_raw(self, data):
        self.sock.sendall(data)

    # reading

    def chunk(self):
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise CheckFailed("no reply within %.0f s" % TIMEOUT)
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as error:
            raise ConnectionClosed("the server closed the connection (%s)" % error)
        if not data:
            raise ConnectionClosed("the server closed the connection")
        return data

    def take(self, n):
        while len(self.buf) < n:
            self.buf += self.chunk()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def recv(self, result_type):
        """Reads one reply; `result_type(seqid)` names the generated *_result class to decode a REPLY with."""
        if self.framed:
            size, = struct.unpack("!i", self.take(4))
            if size <= 0 or size > 64 * 2**20:
                raise CheckFailed("a reply frame declares %d bytes" % size)
            trans = TTransport.TMemoryBuffer(self.take(size))
        else:
            trans = SocketReader(self)
        prot = self.settings.factory.getProtocol(trans)
        try:
            name, mtype, seqid = prot.readMessageBegin()
            if mtype == TMessageType.EXCEPTION:
                value = TApplicationException()
                value.read(prot)
            elif mtype == TMessageType.REPLY:
                value = result_type(seqid)()
                value.read(prot)
            else:
                raise CheckFailed("a reply of message type %d (expected REPLY or EXCEPTION)" % mtype)
            prot.readMessageEnd()
        except (TProtocolException, EOFError, struct.error, UnicodeDecodeError, KeyError) as error:
            raise CheckFailed("a reply does not decode: %s" % error)
        return Reply(name, mtype, seqid, value)

    def call(self, method, args, seqid):
        """Sends one CALL and returns its reply, whose seqid must be the call's."""
        self.send(self.message(method, TMessageType.CALL, seqid, args))
        return self.expect_seqid(self.recv(lambda _seqid: getattr(Calculator, method + "_result")), seqid)

    @staticmethod
    def expect_seqid(reply, seqid):
        if reply.seqid != seqid:
            raise CheckFailed("reply seqid %d, expected %d: %r" % (reply.seqid, seqid, reply))
        return reply

    def pending(self, seconds):
        if self.buf:
            return True
        readable, _, _ = select.select([self.sock], [], [], seconds)
        return bool(readable)

    def outcome(self, seconds, result_type):
        """What the server does within `seconds`: a Reply, "closed", or None (nothing yet)."""
        if not self.pending(seconds):
            return None
        try:
            return self.recv(result_type)
        except ConnectionClosed:
            return "closed"

    def wait_closed(self):
        """Reads until the server closes the connection; returns the replies read before that."""
        replies = []
        while True:
            try:
                replies.append(self.recv(lambda _seqid: Calculator.ping_result))
            except ConnectionClosed:
                return replies
            except CheckFailed as failure:
                raise CheckFailed("the server did not close the connection: %s" % failure)


# --- expectations ------------------------------------------------------------------------------


def short(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "... (%d chars)" % len(text)


def expect_value(got, expected):
    if type(got) is not type(expected) or got != expected:
        raise CheckFailed("expected %s, got %s" % (short(expected), short(got)))
    return got


def expect_invalid_operation(call, what_op, why):
    try:
        got = call()
    except ttypes.InvalidOperation as error:
        if error.whatOp != what_op or error.why != why:
            raise CheckFailed("expected InvalidOperation(whatOp=%d, why=%r), got %r" % (what_op, why, error))
        return
    except TApplicationException as error:
        raise CheckFailed("expected InvalidOperation(%d, %r), got TApplicationException %s %r" % (
            what_op, why, APP_ERRORS.get(error.type, error.type), error.message))
    raise CheckFailed("expected InvalidOperation(%d, %r), got the result %s" % (what_op, why, short(got)))


def expect_app_error(reply, kind):
    error = reply.app_error()
    if error is None or error.type != kind:
        raise CheckFailed("expected TApplicationException %s (%d), got %r" % (APP_ERRORS[kind], kind, reply))
    return error


def same_double(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


def expect_shape(got, expected):
    if not isinstance(got, ttypes.Shape):
        raise CheckFailed("expected a Shape, got %s" % short(got))
    problems = []
    if got.name != expected.name:
        problems.append("name %r, expected %r" % (got.name, expected.name))
    if (not isinstance(got.coords, list) or len(got.coords) != len(expected.coords)
            or not all(same_double(g, e) for g, e in zip(got.coords, expected.coords))):
        problems.append("coords %r, expected %r" % (got.coords, expected.coords))
    if got.tags != expected.tags:
        problems.append("tags %r, expected %r" % (got.tags, expected.tags))
    if got.blob != expected.blob:
        problems.append("blob %s, expected %s" % (short(got.blob), short(expected.blob)))
    if got.flag is not expected.flag:
        problems.append("flag %r, expected %r" % (got.flag, expected.flag))
    if problems:
        raise CheckFailed("; ".join(problems))


CHECKS = []


def check(name, transports=None):
    """Registers a check (for every transport, or only those in `transports`).

    A check may return a string, appended to its name: what it saw."""

    def register(fn):
        CHECKS.append((name, fn, transports))
        return fn

    return register


TCP = ["framed", "buffered"]


# --- ping, add -------------------------------------------------------------------------------------


@check("ping returns nothing (void)")
def _(x):
    expect_value(x.c.ping(), None)


@check("over HTTP the reply is status 200 (THttpServer style)", transports=["http"])
def _(x):
    x.c.ping()
    code = x.main.transport.code
    if code != 200:
        raise CheckFailed("HTTP status %s %s, expected 200" % (code, x.main.transport.message))
    return "Content-Type %s" % x.main.transport.headers.get("Content-Type")


@check("add(1, 2) = 3; add(-5, 3) = -2; add(i32 max, i32 min) = -1; add(0, 0) = 0")
def _(x):
    expect_value(x.c.add(1, 2), 3)
    expect_value(x.c.add(-5, 3), -2)
    expect_value(x.c.add(I32_MAX, I32_MIN), -1)
    expect_value(x.c.add(0, 0), 0)


@check("add(i32 max, 1) and add(i32 min, -1) raise InvalidOperation(1, overflow)")
def _(x):
    expect_invalid_operation(lambda: x.c.add(I32_MAX, 1), 1, "overflow")
    expect_invalid_operation(lambda: x.c.add(I32_MIN, -1), 1, "overflow")


# --- calculate ---------------------------------------------------------------------------------------


def work(num1, num2, op, **extra):
    return ttypes.Work(num1=num1, num2=num2, op=op, **extra)


@check("calculate ADD 10 + 5 = 15, SUBTRACT 10 - 15 = -5, MULTIPLY 6 * -7 = -42")
def _(x):
    Op = ttypes.Operation
    expect_value(x.c.calculate(1, work(10, 5, Op.ADD)), 15)
    expect_value(x.c.calculate(2, work(10, 15, Op.SUBTRACT)), -5)
    expect_value(x.c.calculate(3, work(6, -7, Op.MULTIPLY)), -42)


@check("calculate DIVIDE truncates toward zero: 7/2 = 3, -7/2 = -3, 7/-2 = -3, -7/-2 = 3, 0/5 = 0, -2^31/1 = -2^31")
def _(x):
    for a, b, q in [(7, 2, 3), (-7, 2, -3), (7, -2, -3), (-7, -2, 3), (0, 5, 0), (I32_MIN, 1, I32_MIN)]:
        expect_value(x.c.calculate(4, work(a, b, ttypes.Operation.DIVIDE)), q)


@check("calculate with a comment, with an empty comment and with the comment absent")
def _(x):
    Op = ttypes.Operation
    expect_value(x.c.calculate(5, work(1, 2, Op.ADD, comment="héllo 🎉")), 3)
    expect_value(x.c.calculate(5, work(1, 2, Op.ADD, comment="")), 3)
    absent = work(1, 2, Op.ADD)
    if absent.comment is not None:
        raise AssertionError("comment should be absent")
    expect_value(x.c.calculate(5, absent), 3)


@check("calculate DIVIDE by 0 raises InvalidOperation(4, Cannot divide by 0)")
def _(x):
    expect_invalid_operation(lambda: x.c.calculate(6, work(1, 0, ttypes.Operation.DIVIDE)), 4, "Cannot divide by 0")


@check("calculate with unknown ops 9 and 0 raises InvalidOperation(op, Invalid operation)")
def _(x):
    expect_invalid_operation(lambda: x.c.calculate(7, work(1, 2, 9)), 9, "Invalid operation")
    expect_invalid_operation(lambda: x.c.calculate(7, work(1, 2, 0)), 0, "Invalid operation")


@check("calculate overflow: 65536 * 65536, -2^31 / -1, i32 max + 1, i32 min - 1 raise InvalidOperation(op, overflow)")
def _(x):
    Op = ttypes.Operation
    expect_invalid_operation(lambda: x.c.calculate(8, work(65536, 65536, Op.MULTIPLY)), 3, "overflow")
    expect_invalid_operation(lambda: x.c.calculate(8, work(I32_MIN, -1, Op.DIVIDE)), 4, "overflow")
    expect_invalid_operation(lambda: x.c.calculate(8, work(I32_MAX, 1, Op.ADD)), 1, "overflow")
    expect_invalid_operation(lambda: x.c.calculate(8, work(I32_MIN, 1, Op.SUBTRACT)), 2, "overflow")


# --- echo, echoBinary, echoShape ------------------------------------------------------------------------

UNICODE = "héllo wörld — 日本語 ∑ 🎉 𝄞 \"quoted\" back\\slash\ttab\nnewline \u0000 \u2028 \U0010FFFF"


@check("echo returns Unicode text unchanged (astral characters included)")
def _(x):
    expect_value(x.c.echo(UNICODE), UNICODE)


@check("echo returns the empty string")
def _(x):
    expect_value(x.c.echo(""), "")


@check("echo of a 1 MiB string (multi-byte characters included) comes back whole")
def _(x):
    text = ("0123456789abcdé🎉" * 70000)[: 1 << 20]
    expect_value(x.c.echo(text), text)


@check("echoBinary returns empty bytes")
def _(x):
    expect_value(x.c.echoBinary(b""), b"")


@check("echoBinary returns all 256 byte values")
def _(x):
    data = bytes(range(256)) + b"\x00\xff"
    expect_value(x.c.echoBinary(data), data)


@check("echoBinary of 1 MiB comes back whole")
def _(x):
    data = bytes(i * 7 % 256 for i in range(1 << 20))
    expect_value(x.c.echoBinary(data), data)


def full_shape():
    return ttypes.Shape(
        name="triangle ▲ 🎉",
        coords=[0.5, -1.25, 0.1, 1e300, -2.5e-300, 5e-324, -0.0, 0.0, float("inf"), float("-inf"), float("nan")],
        tags={"a": 1, "big": 2**53 + 1, "-big": -(2**53 + 1), "max": I64_MAX, "min": I64_MIN, "zero": 0, "ü 🎉": -1},
        blob=b"\x00\x01\xfe\xff" + bytes(range(256)),
        flag=True,
    )


@check("echoShape round-trips name, double coords (-0, subnormal, ±inf, NaN), i64 tags up to ±2^63, blob and flag")
def _(x):
    shape = full_shape()
    expect_shape(x.c.echoShape(shape), shape)


@check("echoShape round-trips a shape of empty values (name '', coords [], tags {}, blob b'', flag false)")
def _(x):
    shape = ttypes.Shape(name="", coords=[], tags={}, blob=b"", flag=False)
    expect_shape(x.c.echoShape(shape), shape)


# --- sum ---------------------------------------------------------------------------------------------------


@check("sum([2^63-1, 1, -1]) = 2^63-1 (only the final result is range-checked)")
def _(x):
    expect_value(x.c.sum([I64_MAX, 1, -1]), I64_MAX)


@check("sum([]) = 0, sum([1, 2, 3, -10]) = -4, sum([2^62, 2^62 - 1]) = 2^63 - 1, sum([i64 min]) = i64 min")
def _(x):
    expect_value(x.c.sum([]), 0)
    expect_value(x.c.sum([1, 2, 3, -10]), -4)
    expect_value(x.c.sum([2**62, 2**62 - 1]), I64_MAX)
    expect_value(x.c.sum([I64_MIN]), I64_MIN)


@check("sum([2^63-1, 1]) and sum([i64 min, -1]) raise InvalidOperation(1, overflow)")
def _(x):
    expect_invalid_operation(lambda: x.c.sum([I64_MAX, 1]), 1, "overflow")
    expect_invalid_operation(lambda: x.c.sum([I64_MIN, -1]), 1, "overflow")


# --- zip ------------------------------------------------------------------------------------------------------


@check("zip (oneway) gets no reply; the next call (echo) is answered with its own result", transports=TCP)
def _(x):
    x.c.zip()
    x.c.zip()
    if x.main.pending(QUIET):
        raise CheckFailed("bytes arrived after a oneway zip (was it answered?)")
    expect_value(x.c.echo("after zip"), "after zip")


@check("zip (oneway) is accepted; the next call (echo) is answered with its own result", transports=["http"])
def _(x):
    x.c.zip()
    code = x.main.transport.code
    if code not in (200, 204):
        raise CheckFailed("HTTP status %s for a oneway zip" % code)
    expect_value(x.c.echo("after zip"), "after zip")
    return "HTTP %d" % code


@check("the connection still works after everything above (add(20, 22) = 42)")
def _(x):
    expect_value(x.c.add(20, 22), 42)


# --- raw messages, each group on a fresh connection ---------------------------------------------------------


def still_works(conn, seqid=900):
    """A raw add(40, 2) on `conn` must be answered 42 with its seqid."""
    reply = conn.call("add", Calculator.add_args(num1=40, num2=2), seqid)
    if reply.app_error() is not None or reply.value.success != 42:
        raise CheckFailed("add(40, 2) on the same connection: %r" % reply)


def new_connection_works(x):
    client = x.fresh_client()
    try:
        client.client.ping()
        expect_value(client.client.add(1, 1), 2)
    finally:
        client.close()


@check("an unknown method (nope) is a TApplicationException UNKNOWN_METHOD with the same seqid; "
       "the connection still works", transports=TCP)
def _(x):
    conn = x.raw()
    try:
        reply = conn.call("nope", Calculator.ping_args(), 4242)
        expect_app_error(reply, TApplicationException.UNKNOWN_METHOD)
        still_works(conn)
        return "reply name %r, message %r" % (reply.name, reply.value.message)
    finally:
        conn.close()


@check("messages of type REPLY (2) and EXCEPTION (3) are a TApplicationException INVALID_MESSAGE_TYPE "
       "or close the connection", transports=TCP)
def _(x):
    seen = []
    for mtype, label in ((TMessageType.REPLY, "REPLY"), (TMessageType.EXCEPTION, "EXCEPTION")):
        conn = x.raw()
        try:
            conn.send(conn.message("ping", mtype, 77, Calculator.ping_args()))
            try:
                reply = conn.recv(lambda _seqid: Calculator.ping_result)
            except ConnectionClosed:
                seen.append("%s: closed the connection" % label)
                continue
            expect_app_error(reply, TApplicationException.INVALID_MESSAGE_TYPE)
            conn.expect_seqid(reply, 77)
            try:
                still_works(conn)
                seen.append("%s: INVALID_MESSAGE_TYPE, connection stays usable" % label)
            except ConnectionClosed:
                seen.append("%s: INVALID_MESSAGE_TYPE, then closed" % label)
        finally:
            conn.close()
    new_connection_works(x)
    return "; ".join(seen)


def skipped_call(x, method, seqid, body, result_class, expected):
    """Sends a hand-written CALL whose args hold a field of the wrong type, and
    wants the normal reply `expected` (the field skipped, so read as its zero
    value, as Apache Thrift's C++ server reads it), then a usable connection."""
    conn = x.raw()
    try:
        conn.send(conn.message(method, TMessageType.CALL, seqid, body=body))
        reply = conn.expect_seqid(conn.recv(lambda _seqid: result_class), seqid)
        error = reply.app_error()
        if error is not None:
            raise CheckFailed("expected %r, got TApplicationException %s %r" % (
                expected, APP_ERRORS.get(error.type, error.type), error.message))
        if getattr(reply.value, "ouch", None) is not None:
            raise CheckFailed("expected %r, got %r" % (expected, reply.value.ouch))
        if reply.value.success != expected:
            raise CheckFailed("expected %r, got %r" % (expected, reply.value.success))
        try:
            still_works(conn)
        except ConnectionClosed as failure:
            raise CheckFailed("after the reply: %s (the contract wants the connection usable)" % failure)
    finally:
        conn.close()


@check("add with num1 sent as a string is skipped (num1 reads as 0): a normal reply, 0 + 5; "
       "the connection still works", transports=TCP)
def _(x):
    def body(prot):
        prot.writeStructBegin("add_args")
        prot.writeFieldBegin("num1", TType.STRING, 1)
        prot.writeString("12")
        prot.writeFieldEnd()
        prot.writeFieldBegin("num2", TType.I32, 2)
        prot.writeI32(5)
        prot.writeFieldEnd()
        prot.writeFieldStop()
        prot.writeStructEnd()

    skipped_call(x, "add", 31, body, Calculator.add_result, 5)


@check("calculate with w.num2 sent as a double (in the nested Work) is skipped (num2 reads as 0): "
       "7 + 0 = 7; the connection still works", transports=TCP)
def _(x):
    def body(prot):
        prot.writeStructBegin("calculate_args")
        prot.writeFieldBegin("logid", TType.I32, 1)
        prot.writeI32(1)
        prot.writeFieldEnd()
        prot.writeFieldBegin("w", TType.STRUCT, 2)
        prot.writeStructBegin("Work")
        prot.writeFieldBegin("num1", TType.I32, 1)
        prot.writeI32(7)
        prot.writeFieldEnd()
        prot.writeFieldBegin("num2", TType.DOUBLE, 2)
        prot.writeDouble(2.5)
        prot.writeFieldEnd()
        prot.writeFieldBegin("op", TType.I32, 3)
        prot.writeI32(1)
        prot.writeFieldEnd()
        prot.writeFieldStop()
        prot.writeStructEnd()
        prot.writeFieldEnd()
        prot.writeFieldStop()
        prot.writeStructEnd()

    skipped_call(x, "calculate", 32, body, Calculator.calculate_result, 7)


@check("sum with values sent as list<string> (not list<i64>) is skipped (values reads as []): 0; "
       "the connection still works", transports=TCP)
def _(x):
    def body(prot):
        prot.writeStructBegin("sum_args")
        prot.writeFieldBegin("values", TType.LIST, 1)
        prot.writeListBegin(TType.STRING, 2)
        prot.writeString("1")
        prot.writeString("2")
        prot.writeListEnd()
        prot.writeFieldEnd()
        prot.writeFieldStop()
        prot.writeStructEnd()

    skipped_call(x, "sum", 33, body, Calculator.sum_result, 0)


@check("a truncated message (half of an add call; framed: in a frame of its own) is a TApplicationException "
       "or closes the connection; a new connection works", transports=TCP)
def _(x):
    conn = x.raw()
    try:
        whole = conn.message("add", TMessageType.CALL, 51, Calculator.add_args(num1=1, num2=2))
        half = whole[: len(whole) // 2]
        if conn.framed:
            conn.send_raw(struct.pack("!i", len(half)) + half)  # a frame that holds half a message
        else:
            conn.send_raw(half)
        result = conn.outcome(PATIENCE, lambda _seqid: Calculator.add_result)
        how = ""
        if result is None:
            # The server waits for the rest (as a stream reader may): end our side of the stream.
            conn.sock.shutdown(socket.SHUT_WR)
            how = ", once the client half-closed (it waited for more bytes)"
            result = conn.outcome(TIMEOUT, lambda _seqid: Calculator.add_result)
            if result is None:
                raise CheckFailed("no reply and no close within %.0f s after the client half-closed" % TIMEOUT)
        if result == "closed":
            seen = "closed the connection" + how
        else:
            error = result.app_error()
            if error is None:
                raise CheckFailed("expected a TApplicationException or a close, got %r" % result)
            seen = "TApplicationException %s%s" % (APP_ERRORS.get(error.type, error.type), how)
    finally:
        conn.close()
    new_connection_works(x)
    return "%d of %d bytes sent; %s" % (len(half), len(whole), seen)


@check("sum with a list header claiming 2^31-1 elements is a TApplicationException or closes the connection "
       "(no hang); a new connection works", transports=TCP)
def _(x):
    def body(prot):
        prot.writeStructBegin("sum_args")
        prot.writeFieldBegin("values", TType.LIST, 1)
        prot.writeListBegin(TType.I64, I32_MAX)
        prot.writeI64(1)
        prot.writeI64(2)
        return False  # the rest is never written

    conn = x.raw()
    try:
        conn.send(conn.message("sum", TMessageType.CALL, 61, body=body))
        result = conn.outcome(TIMEOUT, lambda _seqid: Calculator.sum_result)
        if result is None:
            raise CheckFailed("no reply and no close within %.0f s (the server hangs)" % TIMEOUT)
        if result == "closed":
            seen = "closed the connection"
        else:
            error = result.app_error()
            if error is None:
                raise CheckFailed("expected a TApplicationException or a close, got %r" % result)
            seen = "TApplicationException %s %r" % (APP_ERRORS.get(error.type, error.type), error.message)
    finally:
        conn.close()
    new_connection_works(x)
    return seen


@check("a declared frame length of 0x7fffffff makes the server close the connection", transports=["framed"])
def _(x):
    conn = x.raw()
    try:
        still_works(conn, 71)
        conn.send_raw(struct.pack("!I", 0x7FFFFFFF))
        replies = conn.wait_closed()
        for reply in replies:
            if reply.app_error() is None:
                raise CheckFailed("before closing, the server sent %r" % reply)
        if replies:
            return "closed after %s" % ", ".join(repr(r) for r in replies)
        return None
    finally:
        conn.close()


@check("32 pipelined calls with distinct seqids, written in one go, are all answered with matching seqids",
       transports=["framed"])
def _(x):
    conn = x.raw()
    try:
        data = bytearray()
        expected = {}  # seqid -> (result class, check)
        for i in range(32):
            seqid = 1000 + i
            kind = i % 4
            if kind == 0:
                args = Calculator.add_args(num1=i, num2=i)
                expected[seqid] = ("add", lambda r, i=i: r.success == 2 * i)
            elif kind == 1:
                text = "msg %d ✓ 🎉" % i
                args = Calculator.echo_args(text=text)
                expected[seqid] = ("echo", lambda r, text=text: r.success == text)
            elif kind == 2:
                args = Calculator.calculate_args(logid=i, w=work(i, 0, ttypes.Operation.DIVIDE))
                expected[seqid] = ("calculate", lambda r: r.success is None and r.ouch is not None
                                   and (r.ouch.whatOp, r.ouch.why) == (4, "Cannot divide by 0"))
            else:
                blob = bytes([i]) * (i * 100)
                args = Calculator.echoBinary_args(data=blob)
                expected[seqid] = ("echoBinary", lambda r, blob=blob: r.success == blob)
            data += conn.frame(conn.message(expected[seqid][0], TMessageType.CALL, seqid, args))
        conn.send_raw(bytes(data))

        def result_type(seqid):
            if seqid not in expected:
                raise CheckFailed("a reply with unexpected seqid %d" % seqid)
            return getattr(Calculator, expected[seqid][0] + "_result")

        seen = []
        for _i in range(32):
            reply = conn.recv(result_type)
            if reply.seqid in seen:
                raise CheckFailed("a second reply for seqid %d: %r" % (reply.seqid, reply))
            seen.append(reply.seqid)
            if reply.app_error() is not None or not expected[reply.seqid][1](reply.value):
                raise CheckFailed("seqid %d (%s): unexpected %r" % (reply.seqid, expected[reply.seqid][0], reply))
        if conn.pending(QUIET):
            raise CheckFailed("bytes arrived after the 32 replies")
        return "in order" if seen == sorted(seen) else "out of order, matched by seqid"
    finally:
        conn.close()


@check("the server still serves a new connection after the raw ones (ping, add)", transports=TCP)
def _(x):
    new_connection_works(x)


def main():
    parser = argparse.ArgumentParser(description="Apache Thrift interop client of the Calculator contract")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--transport", default="framed", choices=TRANSPORTS)
    parser.add_argument("--protocol", default="binary", choices=PROTOCOLS)
    parser.add_argument("--multiplexed", metavar="SERVICE_NAME", default=None,
                        help="wrap the protocol in TMultiplexedProtocol under this service name")
    parser.add_argument("--path", default="/thrift", help="the HTTP path for --transport http (default: %(default)s)")
    parser.add_argument("--thrift-dir", default=DEFAULT_THRIFT_DIR,
                        help="the directory of calculator.thrift (default: %(default)s)")
    args = parser.parse_args()
    problem = load_thrift(os.path.abspath(args.thrift_dir))
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    settings = Settings(args)
    try:
        context = Context(settings)
    except (OSError, TException) as error:
        print("cannot connect to %s:%d: %s" % (args.host, args.port, error), file=sys.stderr)
        return 2
    label = settings.label
    checks = [(name, fn) for name, fn, transports in CHECKS if transports is None or args.transport in transports]
    try:
        for name, fn in checks:
            try:
                seen = fn(context)
            except CheckFailed as failure:
                print("FAIL [%s] %s: %s" % (label, name, failure), file=sys.stderr, flush=True)
                return 1
            except TApplicationException as error:
                print("FAIL [%s] %s: TApplicationException %s (%d) %r" % (
                    label, name, APP_ERRORS.get(error.type, "?"), error.type, error.message), file=sys.stderr, flush=True)
                return 1
            except (TException, OSError, EOFError) as error:
                print("FAIL [%s] %s: %s %s" % (label, name, type(error).__name__, error), file=sys.stderr, flush=True)
                return 1
            print("ok   [%s] %s%s" % (label, name, ": " + seen if seen else ""), flush=True)
        print("all %d checks passed (%s, thrift python %s, thrift compiler %s)" % (
            len(checks), label, library_version(), COMPILER_VERSION), flush=True)
        return 0
    finally:
        context.close()


if __name__ == "__main__":
    sys.exit(main())
