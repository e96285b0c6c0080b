#!/usr/bin/env python3
"""A protobuf client of the interop Calculator, on Debian's python3-protobuf and protoc.

Usage: /usr/bin/python3 protobuf_calculator_client.py HOST PORT
           [--framing length-prefix|varint] [--proto-dir DIR]

Exercises the whole contract of shared/interop/README.md against a running
calculator (`--codec protobuf --transport tcp`), prints one line per check, and
exits 1 with a clear message on the first failure (2 on a usage, import,
protoc or connection error).

At start it runs `protoc --python_out=TMP -I DIR calculator.proto
envelope.proto` (DIR defaults to the repository's copy in `examples/calculator`) and
imports the generated `calculator_pb2` and `envelope_pb2` from that temporary
directory, which it then removes.

Every call is an `rpc.Request {id, method, payload}` envelope in one frame;
every reply an `rpc.Response {id, payload | error {code, message, details}}`.
`length-prefix` frames are a 4-byte big-endian length then the envelope;
`varint` frames are protobuf's own delimited format (a base-128 varint length,
then the envelope). Id 0 is a notification: no reply.

The last checks open fresh connections and send hostile frames: a frame that
is not an envelope (the contract allows a -32700 reply with id 0 on a
connection that keeps working, or closing the connection: the check line says
which happened) and a declared length of 0x7fffffff (the server must close the
connection), then check that a new connection is still served.

Debian's python3-protobuf is importable by `/usr/bin/python3`; run it with that.
"""

import argparse
import math
import os
import select
import socket
import struct
import sys
from _generated import compile_and_import, find_tool, tool_version

try:
    import google.protobuf
    from google.protobuf.message import DecodeError
except ImportError as error:  # pragma: no cover - depends on the machine
    print("cannot import google.protobuf (%s): run with an interpreter that has python3-protobuf, "
          "such as /usr/bin/python3" % error, file=sys.stderr)
    sys.exit(2)

TIMEOUT = 10.0
QUIET = 0.3  # seconds to wait for a reply that must not come
I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
U64_MAX = 2**64 - 1

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

SERVICE = "interop.Calculator/"
FRAMINGS = ["length-prefix", "varint"]
# The repository's copy of the contract's .proto files.
DEFAULT_PROTO_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    "examples", "calculator")

# Filled in by load_protos().
pb = None  # calculator_pb2
rpc = None  # envelope_pb2
PROTOC_VERSION = "?"


class CheckFailed(Exception):
    pass


class ConnectionClosed(CheckFailed):
    pass


def load_protos(proto_dir):
    """Compiles calculator.proto and envelope.proto with protoc and imports them.

    Returns an error message, or None on success."""
    global pb, rpc, PROTOC_VERSION
    protoc = find_tool("protoc")
    if protoc is None:
        return "protoc not found (install the protobuf-compiler package)"
    for name in ("calculator.proto", "envelope.proto"):
        if not os.path.isfile(os.path.join(proto_dir, name)):
            return "no %s in %s (give --proto-dir)" % (name, proto_dir)
    PROTOC_VERSION = tool_version(protoc, "libprotoc ")
    modules, error = compile_and_import(
        lambda out: [protoc, "--python_out=" + out, "-I", proto_dir, "calculator.proto", "envelope.proto"],
        ["calculator_pb2", "envelope_pb2"], "parley-protobuf-client-")
    if error is None:
        pb, rpc = modules
    return error


# --- raw protobuf encoding, for envelopes the generated code would not write ---------


def varint(n):
    """Base-128 varint of an unsigned value (a negative int64 as its 64-bit two's complement)."""
    if n < 0:
        n &= U64_MAX
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def field_fixed64(number, data):
    return varint(number << 3 | 1) + data


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_fixed32(number, data):
    return varint(number << 3 | 5) + data


# --- the connection -------------------------------------------------------------------


class Connection:
    """One TCP connection that writes rpc.Request frames and reads rpc.Response frames."""

    def __init__(self, host, port, framing):
        self.framing = framing
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.settimeout(TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.next_id = 0

    def close(self):
        self.sock.close()

    def new_id(self):
        self.next_id += 1
        return self.next_id

    # framing

    def frame(self, body):
        if self.framing == "length-prefix":
            return len(body).to_bytes(4, "big") + body
        if self.framing == "varint":
            return varint(len(body)) + body
        raise ValueError("unknown framing " + self.framing)

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, body):
        self.sock.sendall(self.frame(body))

    def _chunk(self):
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise CheckFailed("no reply within %.0f s" % TIMEOUT)
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as error:
            raise ConnectionClosed("the server closed the connection (%s)" % error)
        if not chunk:
            raise ConnectionClosed("the server closed the connection")
        return chunk

    def _take(self, n):
        while len(self.buf) < n:
            self.buf += self._chunk()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def recv_frame(self):
        if self.framing == "length-prefix":
            n = int.from_bytes(self._take(4), "big")
        else:
            n = 0
            shift = 0
            while True:
                byte = self._take(1)[0]
                n |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
                if shift >= 70:
                    raise CheckFailed("a reply's varint length prefix is longer than 10 bytes")
        if n > 64 * 2**20:
            raise CheckFailed("a reply frame declares %d bytes" % n)
        return self._take(n)

    def recv_response(self):
        body = self.recv_frame()
        try:
            return rpc.Response.FromString(body)
        except (DecodeError, UnicodeDecodeError) as error:
            raise CheckFailed("a reply frame is not an rpc.Response (%s): %s" % (error, short(body)))

    def pending(self, seconds):
        """True when reply bytes are buffered or arrive within `seconds`."""
        if self.buf:
            return True
        readable, _, _ = select.select([self.sock], [], [], seconds)
        return bool(readable)

    # envelopes

    def request_bytes(self, method, payload, msgid):
        if not isinstance(payload, (bytes, bytearray)):
            payload = payload.SerializeToString()
        return rpc.Request(id=msgid, method=method, payload=bytes(payload)).SerializeToString()

    def call(self, method, payload=b"", msgid=None):
        """Sends one request and returns its rpc.Response, whose id must be the request's."""
        if msgid is None:
            msgid = self.new_id()
        self.send_frame(self.request_bytes(method, payload, msgid))
        return self.expect_id(self.recv_response(), msgid)

    def call_raw(self, envelope, msgid):
        """Sends a hand-encoded envelope and returns the rpc.Response for `msgid`."""
        self.send_frame(envelope)
        return self.expect_id(self.recv_response(), msgid)

    def notify(self, method, payload=b""):
        self.send_frame(self.request_bytes(method, payload, 0))

    @staticmethod
    def expect_id(response, msgid):
        if response.id != msgid:
            raise CheckFailed("reply id %d, expected %d: %s" % (response.id, msgid, describe(response)))
        return response

    def expect_quiet(self):
        """Fails when a reply (to a notification) arrives within QUIET seconds."""
        if self.pending(QUIET):
            response = self.recv_response()
            raise CheckFailed("unexpected reply (a notification was answered?): %s" % describe(response))

    def wait_closed(self):
        """Reads until the server closes the connection; returns the responses read before that."""
        responses = []
        while True:
            try:
                responses.append(self.recv_response())
            except ConnectionClosed:
                return responses
            except CheckFailed as failure:
                raise CheckFailed("the server did not close the connection: %s" % failure)


class Client:
    """The main connection, plus fresh connections for the hostile checks."""

    def __init__(self, host, port, framing):
        self.host = host
        self.port = port
        self.framing = framing
        self.conn = Connection(host, port, framing)

    def fresh(self):
        try:
            return Connection(self.host, self.port, self.framing)
        except OSError as error:
            raise CheckFailed("cannot open a new connection: %s" % error)

    def close(self):
        self.conn.close()


# --- expectations -----------------------------------------------------------------------


def short(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "... (%d chars)" % len(text)


def describe(response):
    outcome = response.WhichOneof("outcome")
    if outcome == "error":
        e = response.error
        return "Response{id %d, error {code %d, message %r, details %s}}" % (
            response.id, e.code, e.message, short(e.details))
    if outcome == "payload":
        return "Response{id %d, payload %s}" % (response.id, short(response.payload))
    return "Response{id %d, no outcome}" % response.id


def reply_payload(response):
    """The reply payload; an absent outcome counts as an empty payload."""
    outcome = response.WhichOneof("outcome")
    if outcome == "error":
        raise CheckFailed("expected a reply payload, got %s" % describe(response))
    return response.payload if outcome == "payload" else b""


def expect_reply(response, reply_type):
    payload = reply_payload(response)
    try:
        return reply_type.FromString(payload)
    except (DecodeError, UnicodeDecodeError) as error:
        raise CheckFailed("the reply payload is not a %s (%s): %s" % (
            reply_type.DESCRIPTOR.full_name, error, short(payload)))


def expect_empty(response):
    payload = reply_payload(response)
    if payload != b"":
        raise CheckFailed("expected an empty or absent payload (interop.Empty), got %s" % short(payload))


def expect_value(response, reply_type, field, expected):
    got = getattr(expect_reply(response, reply_type), field)
    if type(got) is not type(expected) or got != expected:
        raise CheckFailed("expected %s.%s = %s, got %s" % (
            reply_type.DESCRIPTOR.name, field, short(expected), short(got)))
    return got


def expect_error(response, code, message=None, details=None):
    if response.WhichOneof("outcome") != "error":
        raise CheckFailed("expected error %d, got %s" % (code, describe(response)))
    error = response.error
    if error.code != code:
        raise CheckFailed("expected error code %d, got %s" % (code, describe(response)))
    if message is not None and error.message != message:
        raise CheckFailed("expected error message %r, got %s" % (message, describe(response)))
    if details is not None:
        try:
            got = type(details).FromString(error.details)
        except (DecodeError, UnicodeDecodeError) as failure:
            raise CheckFailed("error details are not a %s (%s): %s" % (
                details.DESCRIPTOR.full_name, failure, describe(response)))
        if got != details:
            raise CheckFailed("expected error details %s {%s}, got {%s}" % (
                details.DESCRIPTOR.full_name, str(details).strip().replace("\n", ", "),
                str(got).strip().replace("\n", ", ")))
    return error


def expect_invalid_operation(response, what_op, why):
    expect_error(response, 1, why, pb.InvalidOperation(whatOp=what_op, why=why))


def same_double(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


def expect_shape(response, expected):
    got = expect_reply(response, pb.Shape)
    problems = []
    if got.name != expected.name:
        problems.append("name %r, expected %r" % (got.name, expected.name))
    if len(got.coords) != len(expected.coords) or not all(
            same_double(g, e) for g, e in zip(got.coords, expected.coords)):
        problems.append("coords %r, expected %r" % (list(got.coords), list(expected.coords)))
    if dict(got.tags) != dict(expected.tags):
        problems.append("tags %r, expected %r" % (dict(got.tags), dict(expected.tags)))
    if got.blob != expected.blob:
        problems.append("blob %s, expected %s" % (short(got.blob), short(expected.blob)))
    if got.flag != expected.flag:
        problems.append("flag %r, expected %r" % (got.flag, expected.flag))
    if problems:
        raise CheckFailed("; ".join(problems))


CHECKS = []


def check(name, framings=None):
    """Registers a check (for every framing, or only those in `framings`).

    A check may return a string, appended to its name: what it saw."""

    def register(fn):
        CHECKS.append((name, fn, framings))
        return fn

    return register


def m(name):
    return SERVICE + name


# --- Ping, Add -------------------------------------------------------------------------------


@check("Ping with an absent payload answers an empty or absent payload")
def _(c):
    expect_empty(c.conn.call(m("Ping")))


@check("Ping with a present but empty payload field (1a 00) answers an empty or absent payload")
def _(c):
    msgid = c.conn.new_id()
    envelope = field_varint(1, msgid) + field_bytes(2, m("Ping").encode()) + field_bytes(3, b"")
    expect_empty(c.conn.call_raw(envelope, msgid))


@check("Add(1, 2) = 3; Add(-5, 3) = -2; Add(i32 max, i32 min) = -1; Add(0, 0) = 0")
def _(c):
    expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=1, num2=2)), pb.AddReply, "sum", 3)
    expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=-5, num2=3)), pb.AddReply, "sum", -2)
    expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=I32_MAX, num2=I32_MIN)), pb.AddReply, "sum", -1)
    expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=0, num2=0)), pb.AddReply, "sum", 0)


@check("Add(i32 max, 1) and Add(i32 min, -1) are Error {code 1, message overflow, details InvalidOperation{1, overflow}}")
def _(c):
    expect_invalid_operation(c.conn.call(m("Add"), pb.AddRequest(num1=I32_MAX, num2=1)), 1, "overflow")
    expect_invalid_operation(c.conn.call(m("Add"), pb.AddRequest(num1=I32_MIN, num2=-1)), 1, "overflow")


# --- Calculate ---------------------------------------------------------------------------------


def calc(num1, num2, op, logid=1, **extra):
    return pb.CalculateRequest(logid=logid, w=pb.Work(num1=num1, num2=num2, op=op, **extra))


@check("Calculate ADD 10 + 5 = 15, SUBTRACT 10 - 15 = -5, MULTIPLY 6 * -7 = -42")
def _(c):
    expect_value(c.conn.call(m("Calculate"), calc(10, 5, pb.ADD)), pb.CalculateReply, "value", 15)
    expect_value(c.conn.call(m("Calculate"), calc(10, 15, pb.SUBTRACT, 2)), pb.CalculateReply, "value", -5)
    expect_value(c.conn.call(m("Calculate"), calc(6, -7, pb.MULTIPLY, 3)), pb.CalculateReply, "value", -42)


@check("Calculate DIVIDE truncates toward zero: 7/2 = 3, -7/2 = -3, 7/-2 = -3, -7/-2 = 3, 0/5 = 0, -2^31/1 = -2^31")
def _(c):
    for a, b, q in [(7, 2, 3), (-7, 2, -3), (7, -2, -3), (-7, -2, 3), (0, 5, 0), (I32_MIN, 1, I32_MIN)]:
        expect_value(c.conn.call(m("Calculate"), calc(a, b, pb.DIVIDE, 4)), pb.CalculateReply, "value", q)


@check("Calculate with a comment, with an empty comment and with the comment absent")
def _(c):
    expect_value(c.conn.call(m("Calculate"), calc(1, 2, pb.ADD, 5, comment="héllo 🎉")), pb.CalculateReply, "value", 3)
    expect_value(c.conn.call(m("Calculate"), calc(1, 2, pb.ADD, 5, comment="")), pb.CalculateReply, "value", 3)
    request = calc(1, 2, pb.ADD, 5)
    if request.w.HasField("comment"):
        raise AssertionError("comment should be absent")
    expect_value(c.conn.call(m("Calculate"), request), pb.CalculateReply, "value", 3)


@check("Calculate DIVIDE by 0 is Error {code 1, message Cannot divide by 0, details InvalidOperation{4, ...}}")
def _(c):
    expect_invalid_operation(c.conn.call(m("Calculate"), calc(1, 0, pb.DIVIDE)), 4, "Cannot divide by 0")


@check("Calculate with unknown ops 9 and 0 is Error {code op, message Invalid operation, details InvalidOperation{op, ...}}")
def _(c):
    expect_invalid_operation(c.conn.call(m("Calculate"), calc(1, 2, 9)), 9, "Invalid operation")
    expect_invalid_operation(c.conn.call(m("Calculate"), calc(1, 2, 0)), 0, "Invalid operation")


@check("Calculate overflow: 65536 * 65536, -2^31 / -1, i32 max + 1, i32 min - 1 are InvalidOperation(op, overflow)")
def _(c):
    expect_invalid_operation(c.conn.call(m("Calculate"), calc(65536, 65536, pb.MULTIPLY)), 3, "overflow")
    expect_invalid_operation(c.conn.call(m("Calculate"), calc(I32_MIN, -1, pb.DIVIDE)), 4, "overflow")
    expect_invalid_operation(c.conn.call(m("Calculate"), calc(I32_MAX, 1, pb.ADD)), 1, "overflow")
    expect_invalid_operation(c.conn.call(m("Calculate"), calc(I32_MIN, 1, pb.SUBTRACT)), 2, "overflow")


# --- Echo, EchoBinary, EchoShape --------------------------------------------------------------

UNICODE = "héllo wörld — 日本語 ∑ 🎉 𝄞 \"quoted\" back\\slash\ttab\nnewline \u0000 \u2028 \U0010FFFF"


@check("Echo returns Unicode text unchanged (astral characters included)")
def _(c):
    expect_value(c.conn.call(m("Echo"), pb.EchoMessage(text=UNICODE)), pb.EchoMessage, "text", UNICODE)


@check("Echo returns the empty string")
def _(c):
    expect_value(c.conn.call(m("Echo"), pb.EchoMessage(text="")), pb.EchoMessage, "text", "")


@check("Echo of a 1 MiB string (multi-byte characters included) comes back whole")
def _(c):
    text = ("0123456789abcdé🎉" * 70000)[: 1 << 20]
    expect_value(c.conn.call(m("Echo"), pb.EchoMessage(text=text)), pb.EchoMessage, "text", text)


@check("Echo with invalid UTF-8 in its payload gets a well-formed reply (-32602 or an echo), and the connection still works")
def _(c):
    response = c.conn.call(m("Echo"), field_bytes(1, b"ok \xff\xfe \xc3\x28"))
    if response.WhichOneof("outcome") == "error":
        expect_error(response, INVALID_PARAMS)
    else:
        expect_reply(response, pb.EchoMessage)
    expect_empty(c.conn.call(m("Ping")))


@check("EchoBinary returns empty bytes")
def _(c):
    expect_value(c.conn.call(m("EchoBinary"), pb.BinaryMessage(data=b"")), pb.BinaryMessage, "data", b"")


@check("EchoBinary returns all 256 byte values")
def _(c):
    data = bytes(range(256)) + b"\x00\xff"
    expect_value(c.conn.call(m("EchoBinary"), pb.BinaryMessage(data=data)), pb.BinaryMessage, "data", data)


@check("EchoBinary of 1 MiB comes back whole")
def _(c):
    data = bytes(i * 7 % 256 for i in range(1 << 20))
    expect_value(c.conn.call(m("EchoBinary"), pb.BinaryMessage(data=data)), pb.BinaryMessage, "data", data)


def full_shape():
    return pb.Shape(
        name="triangle ▲ 🎉",
        coords=[0.5, -1.25, 0.1, 1e300, -2.5e-300, 5e-324, -0.0, 3.0, float("inf"), float("-inf"), float("nan")],
        tags={"a": 1, "big": 2**53 + 1, "-big": -(2**53 + 1), "max": I64_MAX, "min": I64_MIN, "zero": 0, "ü 🎉": -1},
        blob=b"\x00\x01\xfe\xff" + bytes(range(256)),
        flag=True,
    )


@check("EchoShape round-trips name, double coords (-0, subnormal, ±inf, NaN), int64 tags up to ±2^63, blob and flag")
def _(c):
    shape = full_shape()
    expect_shape(c.conn.call(m("EchoShape"), shape), shape)


@check("EchoShape round-trips an empty shape with flag false")
def _(c):
    shape = pb.Shape()
    expect_shape(c.conn.call(m("EchoShape"), shape), shape)


# --- Sum ------------------------------------------------------------------------------------------


@check("Sum([2^63-1, 1, -1]) = 2^63-1 (only the final result is range-checked)")
def _(c):
    expect_value(c.conn.call(m("Sum"), pb.SumRequest(values=[I64_MAX, 1, -1])), pb.SumReply, "total", I64_MAX)


@check("Sum([]) = 0, Sum([1, 2, 3, -10]) = -4, Sum([2^62, 2^62 - 1]) = 2^63 - 1, Sum([i64 min]) = i64 min")
def _(c):
    expect_value(c.conn.call(m("Sum"), pb.SumRequest(values=[])), pb.SumReply, "total", 0)
    expect_value(c.conn.call(m("Sum"), pb.SumRequest(values=[1, 2, 3, -10])), pb.SumReply, "total", -4)
    expect_value(c.conn.call(m("Sum"), pb.SumRequest(values=[2**62, 2**62 - 1])), pb.SumReply, "total", I64_MAX)
    expect_value(c.conn.call(m("Sum"), pb.SumRequest(values=[I64_MIN])), pb.SumReply, "total", I64_MIN)


@check("Sum([2^63-1, 1]) and Sum([i64 min, -1]) are Error {code 1, message overflow, details InvalidOperation{1, overflow}}")
def _(c):
    expect_invalid_operation(c.conn.call(m("Sum"), pb.SumRequest(values=[I64_MAX, 1])), 1, "overflow")
    expect_invalid_operation(c.conn.call(m("Sum"), pb.SumRequest(values=[I64_MIN, -1])), 1, "overflow")


# --- protobuf encoding leeway: what any protobuf parser accepts -----------------------------------


@check("repeated scalars in unpacked form (as proto2 encoders write them) are accepted: Sum and EchoShape coords")
def _(c):
    values = [5, -3, I64_MAX, -I64_MAX]
    payload = b"".join(field_varint(1, v) for v in values)
    expect_value(c.conn.call(m("Sum"), payload), pb.SumReply, "total", 2)
    coords = [1.5, -2.25, 1e300]
    payload = field_bytes(1, "unpacked".encode()) + b"".join(field_fixed64(2, struct.pack("<d", x)) for x in coords)
    expect_shape(c.conn.call(m("EchoShape"), payload), pb.Shape(name="unpacked", coords=coords))


@check("unknown fields of every wire type are skipped, in the envelope and in the payload")
def _(c):
    unknown = (field_varint(15, 7) + field_bytes(16, b"skip me") + field_fixed32(17, b"\x01\x02\x03\x04")
               + field_fixed64(2000, b"\x00" * 8))
    msgid = c.conn.new_id()
    payload = unknown + pb.AddRequest(num1=20, num2=22).SerializeToString() + field_varint(99, 1)
    envelope = unknown + field_varint(1, msgid) + unknown + field_bytes(2, m("Add").encode()) + field_bytes(3, payload)
    expect_value(c.conn.call_raw(envelope, msgid), pb.AddReply, "sum", 42)


@check("envelope fields in reverse order (payload, method, id) are accepted")
def _(c):
    msgid = c.conn.new_id()
    envelope = (field_bytes(3, pb.AddRequest(num1=2, num2=3).SerializeToString())
                + field_bytes(2, m("Add").encode()) + field_varint(1, msgid))
    expect_value(c.conn.call_raw(envelope, msgid), pb.AddReply, "sum", 5)


# --- Zip ------------------------------------------------------------------------------------------------


@check("Zip as a notification (id 0, also with id 0 and an empty payload written out) gets no reply; the next reply is Ping's")
def _(c):
    c.conn.notify(m("Zip"), pb.Empty())
    c.conn.send_frame(field_varint(1, 0) + field_bytes(2, m("Zip").encode()) + field_bytes(3, b""))
    expect_empty(c.conn.call(m("Ping"), msgid=4242))
    c.conn.expect_quiet()


@check("Zip called with an id answers an empty or absent payload")
def _(c):
    expect_empty(c.conn.call(m("Zip"), pb.Empty()))


@check("notifications of Add, of an unknown method and with an undecodable payload get no reply")
def _(c):
    c.conn.notify(m("Add"), pb.AddRequest(num1=1, num2=2))
    c.conn.notify(m("Nope"), b"")
    c.conn.notify(m("Add"), b"\xff\xff\xff")
    expect_empty(c.conn.call(m("Ping"), msgid=4243))
    c.conn.expect_quiet()


# --- protocol errors ---------------------------------------------------------------------------------


@check("a request with an empty method name (an id alone; an id and a payload) is invalid request (-32600) under its id, and the connection still works")
def _(c):
    expect_error(c.conn.call("", b""), INVALID_REQUEST)
    expect_error(c.conn.call("", pb.AddRequest(num1=1, num2=2)), INVALID_REQUEST)
    expect_error(c.conn.call("", pb.EchoMessage(text="hi")), INVALID_REQUEST)
    expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=1, num2=2)), pb.AddReply, "sum", 3)


@check("an unknown method interop.Calculator/Nope is method not found (-32601)")
def _(c):
    expect_error(c.conn.call(m("Nope"), b""), METHOD_NOT_FOUND)


@check("a method outside the service (other.Service/X) is method not found (-32601)")
def _(c):
    expect_error(c.conn.call("other.Service/X", b""), METHOD_NOT_FOUND)


@check("a method name in the wrong case (interop.Calculator/add) is method not found (-32601)")
def _(c):
    expect_error(c.conn.call(SERVICE + "add", pb.AddRequest(num1=1, num2=2)), METHOD_NOT_FOUND)


@check("a payload that does not decode (ff ff ff for Add, 08 for Calculate, 0a 05 ab for Echo) is invalid params (-32602), and the connection still works")
def _(c):
    expect_error(c.conn.call(m("Add"), b"\xff\xff\xff"), INVALID_PARAMS)
    expect_error(c.conn.call(m("Calculate"), b"\x08"), INVALID_PARAMS)
    expect_error(c.conn.call(m("Echo"), b"\x0a\x05ab"), INVALID_PARAMS)
    expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=1, num2=2)), pb.AddReply, "sum", 3)


@check("ids beyond 2^53 (2^53 + 1, 2^63 + 5, 2^64 - 1) are echoed exactly")
def _(c):
    for msgid in (2**53 + 1, 2**63 + 5, U64_MAX):
        expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=2, num2=2), msgid=msgid), pb.AddReply, "sum", 4)


# --- pipelining ------------------------------------------------------------------------------------------


@check("64 pipelined requests (and Zip notifications between them) sent in one write are all answered, matched by id")
def _(c):
    data = bytearray()
    expected = {}
    for i in range(64):
        msgid = 1000 + i
        kind = i % 4
        if kind == 0:
            data += c.conn.frame(c.conn.request_bytes(m("Add"), pb.AddRequest(num1=i, num2=i), msgid))
            expected[msgid] = lambda r, i=i: expect_value(r, pb.AddReply, "sum", 2 * i)
        elif kind == 1:
            text = "msg %d ✓ 🎉" % i
            data += c.conn.frame(c.conn.request_bytes(m("Echo"), pb.EchoMessage(text=text), msgid))
            expected[msgid] = lambda r, text=text: expect_value(r, pb.EchoMessage, "text", text)
        elif kind == 2:
            data += c.conn.frame(c.conn.request_bytes(m("Calculate"), calc(i, 0, pb.DIVIDE), msgid))
            expected[msgid] = lambda r: expect_invalid_operation(r, 4, "Cannot divide by 0")
        else:
            data += c.conn.frame(c.conn.request_bytes(m("Zip"), pb.Empty(), 0))
            blob = bytes([i]) * (i * 100)
            data += c.conn.frame(c.conn.request_bytes(m("EchoBinary"), pb.BinaryMessage(data=blob), msgid))
            expected[msgid] = lambda r, blob=blob: expect_value(r, pb.BinaryMessage, "data", blob)
    c.conn.send_raw(bytes(data))
    seen = set()
    for _i in range(64):
        response = c.conn.recv_response()
        if response.id not in expected or response.id in seen:
            raise CheckFailed("unexpected or duplicate reply id %d: %s" % (response.id, describe(response)))
        seen.add(response.id)
        try:
            expected[response.id](response)
        except CheckFailed as failure:
            raise CheckFailed("id %d: %s" % (response.id, failure))
    c.conn.expect_quiet()


@check("the connection still works after everything above")
def _(c):
    expect_value(c.conn.call(m("Add"), pb.AddRequest(num1=20, num2=22)), pb.AddReply, "sum", 42)


# --- hostile frames, each on a fresh connection --------------------------------------------------------


@check("a frame that is not an envelope (ff x 8) on a fresh connection is -32700 (id 0) or closes the connection")
def _(c):
    conn = c.fresh()
    try:
        conn.send_frame(b"\xff" * 8)
        try:
            response = conn.recv_response()
        except ConnectionClosed:
            return "the server closed the connection"
        expect_error(response, PARSE_ERROR)
        if response.id != 0:
            raise CheckFailed("the parse error reply has id %d, expected 0" % response.id)
        try:
            expect_empty(conn.call(m("Ping")))
            expect_value(conn.call(m("Add"), pb.AddRequest(num1=1, num2=1)), pb.AddReply, "sum", 2)
        except ConnectionClosed as failure:
            raise CheckFailed("answered -32700, then: %s (the contract wants one or the other)" % failure)
        return "answered -32700 (id 0) and the connection stays usable"
    finally:
        conn.close()


@check("a declared frame length of 0x7fffffff on a fresh connection makes the server close the connection")
def _(c):
    conn = c.fresh()
    try:
        expect_empty(conn.call(m("Ping")))
        if conn.framing == "length-prefix":
            conn.send_raw((0x7FFFFFFF).to_bytes(4, "big"))
        else:
            conn.send_raw(varint(0x7FFFFFFF))
        responses = conn.wait_closed()
        for response in responses:
            if response.WhichOneof("outcome") != "error":
                raise CheckFailed("before closing, the server sent %s" % describe(response))
        if responses:
            return "closed after %s" % ", ".join(describe(r) for r in responses)
        return None
    finally:
        conn.close()


@check("a varint length prefix of 11 bytes on a fresh connection makes the server close the connection",
       framings=["varint"])
def _(c):
    conn = c.fresh()
    try:
        expect_empty(conn.call(m("Ping")))
        conn.send_raw(b"\xff" * 10 + b"\x01")
        responses = conn.wait_closed()
        for response in responses:
            if response.WhichOneof("outcome") != "error":
                raise CheckFailed("before closing, the server sent %s" % describe(response))
        if responses:
            return "closed after %s" % ", ".join(describe(r) for r in responses)
        return None
    finally:
        conn.close()


@check("the server still serves a new connection after the hostile ones (Ping)")
def _(c):
    conn = c.fresh()
    try:
        expect_empty(conn.call(m("Ping")))
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description="protobuf interop client of the Calculator contract")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--framing", default="length-prefix", choices=FRAMINGS)
    parser.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR,
                        help="the directory of calculator.proto and envelope.proto (default: %(default)s)")
    args = parser.parse_args()
    problem = load_protos(os.path.abspath(args.proto_dir))
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        client = Client(args.host, args.port, args.framing)
    except OSError as error:
        print("cannot connect to %s:%d: %s" % (args.host, args.port, error), file=sys.stderr)
        return 2
    checks = [(name, fn) for name, fn, framings in CHECKS if framings is None or args.framing in framings]
    try:
        for name, fn in checks:
            try:
                seen = fn(client)
            except CheckFailed as failure:
                print("FAIL [%s] %s: %s" % (args.framing, name, failure), file=sys.stderr, flush=True)
                return 1
            except OSError as error:
                print("FAIL [%s] %s: connection error %s" % (args.framing, name, error), file=sys.stderr, flush=True)
                return 1
            print("ok   [%s] %s%s" % (args.framing, name, ": " + seen if seen else ""), flush=True)
        print("all %d checks passed (%s, protobuf %s, protoc %s)" % (
            len(checks), args.framing, google.protobuf.__version__, PROTOC_VERSION), flush=True)
        return 0
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
