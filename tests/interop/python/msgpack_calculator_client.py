#!/usr/bin/env python3
"""A msgpack-rpc client of the interop Calculator, on python3-msgpack only.

Usage: python3 msgpack_calculator_client.py HOST PORT
           [--framing self-delimiting|length-prefix|varint|content-length]

Exercises the whole contract of shared/interop/README.md against a running
calculator (`--codec msgpack`), prints one line per check, and exits 1 with a
clear message on the first failure (2 on a usage, import or connection error).

The default framing is the msgpack-rpc standard: a plain stream of msgpack
values, read with `msgpack.Unpacker`. The other framings wrap each message:
`length-prefix` in a 4-byte big-endian length, `varint` in an unsigned LEB128
length, `content-length` in LSP-style `Content-Length: N` headers.

Debian's python3-msgpack is importable by `/usr/bin/python3`; run it with that.
"""

import argparse
import math
import socket
import sys

try:
    import msgpack
except ImportError as error:  # pragma: no cover - depends on the machine
    print("cannot import msgpack (%s): run with an interpreter that has python3-msgpack, "
          "such as /usr/bin/python3" % error, file=sys.stderr)
    sys.exit(2)

TIMEOUT = 10.0
I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)

REQUEST = 0
RESPONSE = 1
NOTIFICATION = 2

INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601

FRAMINGS = ["self-delimiting", "length-prefix", "varint", "content-length"]


class CheckFailed(Exception):
    pass


def pack(value):
    # use_bin_type: bytes travel as bin, str as str (msgpack >= 1.0's default, said anyway).
    return msgpack.packb(value, use_bin_type=True)


class Stream:
    """Writes msgpack-rpc messages and reads them back, in one framing."""

    def __init__(self, sock, framing):
        self.sock = sock
        self.framing = framing
        self.buf = bytearray()
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=64 * 2**20)

    def encode(self, message):
        body = pack(message)
        if self.framing == "self-delimiting":
            return body
        if self.framing == "length-prefix":
            return len(body).to_bytes(4, "big") + body
        if self.framing == "varint":
            n = len(body)
            out = bytearray()
            while True:
                byte = n & 0x7F
                n >>= 7
                if n:
                    out.append(byte | 0x80)
                else:
                    out.append(byte)
                    break
            return bytes(out) + body
        if self.framing == "content-length":
            return b"Content-Length: %d\r\n\r\n" % len(body) + body
        raise ValueError("unknown framing " + self.framing)

    def send(self, message):
        self.sock.sendall(self.encode(message))

    def _chunk(self):
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise CheckFailed("no reply within %.0f s" % TIMEOUT)
        if not chunk:
            raise CheckFailed("the server closed the connection")
        return chunk

    def _take(self, n):
        while len(self.buf) < n:
            self.buf += self._chunk()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _unpack_one(self, body):
        try:
            return msgpack.unpackb(body, raw=False, strict_map_key=False)
        except (ValueError, msgpack.ExtraData) as error:
            raise CheckFailed("a frame is not one msgpack value (%s): %r" % (error, body[:200]))

    def recv(self):
        if self.framing == "self-delimiting":
            while True:
                try:
                    return next(self.unpacker)
                except StopIteration:
                    pass
                except ValueError as error:
                    raise CheckFailed("the reply stream is not msgpack: %s" % error)
                self.unpacker.feed(self._chunk())
        if self.framing == "length-prefix":
            n = int.from_bytes(self._take(4), "big")
            return self._unpack_one(self._take(n))
        if self.framing == "varint":
            n = 0
            shift = 0
            while True:
                byte = self._take(1)[0]
                n |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
                if shift > 63:
                    raise CheckFailed("varint length prefix too long")
            return self._unpack_one(self._take(n))
        if self.framing == "content-length":
            while True:
                i = self.buf.find(b"\r\n\r\n")
                if i >= 0:
                    break
                self.buf += self._chunk()
            head = bytes(self.buf[:i]).decode("ascii")
            del self.buf[: i + 4]
            length = None
            for line in head.split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                raise CheckFailed("frame without a Content-Length header: %r" % head)
            return self._unpack_one(self._take(length))
        raise ValueError("unknown framing " + self.framing)


class Client:
    def __init__(self, host, port, framing):
        self.framing = framing
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.settimeout(TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream = Stream(self.sock, framing)
        self.next_id = 0

    def close(self):
        self.sock.close()

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def recv_reply(self):
        reply = self.stream.recv()
        check_reply_shape(reply)
        return reply

    def request(self, method, params=None, msgid=None):
        """Sends one request and returns its reply [1, msgid, error, result], checked."""
        if msgid is None:
            msgid = self.new_id()
        self.stream.send([REQUEST, msgid, method, [] if params is None else params])
        reply = self.recv_reply()
        if reply[1] != msgid:
            raise CheckFailed("reply msgid %r, expected %r: %r" % (reply[1], msgid, reply))
        return reply

    def notify(self, method, params=None):
        self.stream.send([NOTIFICATION, method, [] if params is None else params])


def check_reply_shape(reply):
    if not isinstance(reply, list) or len(reply) != 4 or reply[0] != RESPONSE:
        raise CheckFailed("a reply is [1, msgid, error, result], got %r" % (reply,))
    msgid, error, result = reply[1:]
    if msgid is not None and (type(msgid) is not int or not 0 <= msgid < 2**32):
        raise CheckFailed("reply msgid is not a u32: %r" % (reply,))
    if error is not None:
        if not isinstance(error, dict) or type(error.get("code")) is not int or not isinstance(error.get("message"), str):
            raise CheckFailed("malformed error map: %r" % (reply,))
        if result is not None:
            raise CheckFailed("an error reply with a result: %r" % (reply,))


def same(got, expected):
    """Equal and of the same type (bool is not int, bytes is not str)."""
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(same(g, e) for g, e in zip(got, expected))
    if isinstance(expected, dict):
        return set(got) == set(expected) and all(same(got[k], expected[k]) for k in expected)
    return got == expected


def short(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "... (%d chars)" % len(text)


def expect_result(reply, expected):
    if reply[2] is not None:
        raise CheckFailed("expected result %s, got error %r" % (short(expected), reply[2]))
    got = reply[3]
    if not same(got, expected):
        raise CheckFailed("expected result %s, got %s" % (short(expected), short(got)))
    return got


def expect_error(reply, code, message=None, data=None):
    error = reply[2]
    if error is None:
        raise CheckFailed("expected error %d, got result %s" % (code, short(reply[3])))
    if error["code"] != code:
        raise CheckFailed("expected error code %d, got %r" % (code, error))
    if message is not None and error["message"] != message:
        raise CheckFailed("expected error message %r, got %r" % (message, error))
    if data is not None and not same(error.get("data"), data):
        raise CheckFailed("expected error data %r, got %r" % (data, error))
    return error


def invalid_operation(what_op, why):
    return {"code": 1, "message": why, "data": {"whatOp": what_op, "why": why}}


CHECKS = []


def check(name):
    def register(fn):
        CHECKS.append((name, fn))
        return fn

    return register


# --- ping, add ----------------------------------------------------------------


@check("ping() answers nil")
def _(c):
    expect_result(c.request("ping"), None)


@check("add(1, 2) = 3; add(-5, 3) = -2; add(i32 max, i32 min) = -1")
def _(c):
    expect_result(c.request("add", [1, 2]), 3)
    expect_result(c.request("add", [-5, 3]), -2)
    expect_result(c.request("add", [I32_MAX, I32_MIN]), -1)


@check("add(i32 max, 1) is InvalidOperation {code 1, message overflow, data {whatOp 1, why}}")
def _(c):
    expect_error(c.request("add", [I32_MAX, 1]), **invalid_operation(1, "overflow"))
    expect_error(c.request("add", [I32_MIN, -1]), **invalid_operation(1, "overflow"))


# --- calculate ------------------------------------------------------------------


def work(num1, num2, op, **extra):
    w = {"num1": num1, "num2": num2, "op": op}
    w.update(extra)
    return w


@check("calculate ADD 10 + 5 = 15, SUBTRACT 10 - 15 = -5, MULTIPLY 6 * -7 = -42")
def _(c):
    expect_result(c.request("calculate", [1, work(10, 5, 1)]), 15)
    expect_result(c.request("calculate", [2, work(10, 15, 2)]), -5)
    expect_result(c.request("calculate", [3, work(6, -7, 3)]), -42)


@check("calculate DIVIDE truncates toward zero: 7/2 = 3, -7/2 = -3, 7/-2 = -3, -7/-2 = 3")
def _(c):
    for a, b, q in [(7, 2, 3), (-7, 2, -3), (7, -2, -3), (-7, -2, 3), (0, 5, 0)]:
        expect_result(c.request("calculate", [4, work(a, b, 4)]), q)


@check("calculate with a comment and with a nil comment")
def _(c):
    expect_result(c.request("calculate", [5, work(1, 2, 1, comment="héllo 🎉")]), 3)
    expect_result(c.request("calculate", [5, work(1, 2, 1, comment=None)]), 3)


@check("calculate DIVIDE by 0 is InvalidOperation(4, Cannot divide by 0)")
def _(c):
    expect_error(c.request("calculate", [1, work(1, 0, 4)]), **invalid_operation(4, "Cannot divide by 0"))


@check("calculate with unknown ops 9 and 0 is InvalidOperation(op, Invalid operation)")
def _(c):
    expect_error(c.request("calculate", [1, work(1, 2, 9)]), **invalid_operation(9, "Invalid operation"))
    expect_error(c.request("calculate", [1, work(1, 2, 0)]), **invalid_operation(0, "Invalid operation"))


@check("calculate overflow: 65536 * 65536, -2^31 / -1, i32 max + 1, i32 min - 1")
def _(c):
    expect_error(c.request("calculate", [1, work(65536, 65536, 3)]), **invalid_operation(3, "overflow"))
    expect_error(c.request("calculate", [1, work(I32_MIN, -1, 4)]), **invalid_operation(4, "overflow"))
    expect_error(c.request("calculate", [1, work(I32_MAX, 1, 1)]), **invalid_operation(1, "overflow"))
    expect_error(c.request("calculate", [1, work(I32_MIN, 1, 2)]), **invalid_operation(2, "overflow"))


# --- echo, echoBinary, echoShape --------------------------------------------------

UNICODE = "héllo wörld — 日本語 ∑ 🎉 𝄞 \"quoted\" back\\slash\ttab\nnewline \u0000 \u2028 \U0010FFFF"


@check("echo returns Unicode text unchanged (astral characters included)")
def _(c):
    expect_result(c.request("echo", [UNICODE]), UNICODE)


@check("echo returns the empty string")
def _(c):
    expect_result(c.request("echo", [""]), "")


@check("echoBinary returns all 256 byte values as msgpack bin")
def _(c):
    data = bytes(range(256)) + b"\x00\xff"
    expect_result(c.request("echoBinary", [data]), data)


@check("echoBinary returns empty bytes")
def _(c):
    expect_result(c.request("echoBinary", [b""]), b"")


@check("echoBinary with a str is invalid params (-32602)")
def _(c):
    expect_error(c.request("echoBinary", ["not bin"]), INVALID_PARAMS)


SHAPE = {
    "name": "triangle ▲",
    "coords": [0.5, -1.25, 0.1, 1e300, -2.5e-300, 3.75],
    "tags": {"a": 1, "big": 2**53 + 1, "max": I64_MAX, "min": I64_MIN, "zero": 0},
    "blob": b"\x00\x01\xfe\xff",
    "flag": True,
}


@check("echoShape round-trips name, double coords, i64 tags beyond 2^53, bin blob and flag")
def _(c):
    expect_result(c.request("echoShape", [SHAPE]), SHAPE)


@check("echoShape round-trips an empty shape with flag false")
def _(c):
    empty = {"name": "", "coords": [], "tags": {}, "blob": b"", "flag": False}
    expect_result(c.request("echoShape", [empty]), empty)


@check("echoShape returns whole doubles 2.0, 0.0, -0.0 as floats, the sign of zero kept")
def _(c):
    coords = [2.0, 0.0, -0.0, 3.0, 1e20, -1.0]
    shape = dict(SHAPE, coords=coords)
    reply = c.request("echoShape", [shape])
    if reply[2] is not None:
        raise CheckFailed("expected a result, got error %r" % (reply[2],))
    got = reply[3]["coords"]
    if [type(x) for x in got] != [float] * len(coords):
        raise CheckFailed("coords %r: every one should be a float (msgpack float 64), not %r"
                          % (got, [type(x).__name__ for x in got]))
    if got != coords or [math.copysign(1.0, x) for x in got] != [math.copysign(1.0, x) for x in coords]:
        raise CheckFailed("coords %r, expected %r with the signs of zero" % (got, coords))
    if not same(got, coords):
        raise CheckFailed("coords %r, expected %r" % (got, coords))


@check("echoShape with a tag beyond i64 (2^63) is invalid params (-32602)")
def _(c):
    expect_error(c.request("echoShape", [dict(SHAPE, tags={"x": 2**63})]), INVALID_PARAMS)


# --- sum ----------------------------------------------------------------------------


@check("sum([2^63-1, 1, -1]) = 2^63-1 (only the final result is range-checked)")
def _(c):
    expect_result(c.request("sum", [[I64_MAX, 1, -1]]), I64_MAX)


@check("sum([]) = 0, sum([1, 2, 3, -10]) = -4, sum([2^62, 2^62 - 1]) = 2^63 - 1, sum([i64 min]) = i64 min")
def _(c):
    expect_result(c.request("sum", [[]]), 0)
    expect_result(c.request("sum", [[1, 2, 3, -10]]), -4)
    expect_result(c.request("sum", [[2**62, 2**62 - 1]]), I64_MAX)
    expect_result(c.request("sum", [[I64_MIN]]), I64_MIN)


@check("sum beyond i64 is InvalidOperation(1, overflow)")
def _(c):
    expect_error(c.request("sum", [[I64_MAX, 1]]), **invalid_operation(1, "overflow"))
    expect_error(c.request("sum", [[I64_MIN, -1]]), **invalid_operation(1, "overflow"))


# --- zip -----------------------------------------------------------------------------


@check("zip as a notification gets no reply (the next reply is ping's)")
def _(c):
    c.notify("zip")
    c.notify("zip", [])
    expect_result(c.request("ping", msgid=4242), None)


@check("zip called as a request answers nil")
def _(c):
    expect_result(c.request("zip"), None)


@check("a notification of an unknown method or with bad params gets no reply")
def _(c):
    c.notify("noSuchMethod", [1])
    c.notify("add", ["x"])
    expect_result(c.request("ping", msgid=4243), None)


# --- protocol errors ---------------------------------------------------------------


@check("an unknown method is method not found (-32601)")
def _(c):
    expect_error(c.request("noSuchMethod", [1]), METHOD_NOT_FOUND)


INVALID_PARAMS_CASES = [
    ("add with a missing argument", "add", [1]),
    ("add with an extra argument", "add", [1, 2, 3]),
    ("add with a str argument", "add", ["1", 2]),
    ("add with a float argument", "add", [1.5, 2]),
    ("add with a nil argument", "add", [None, 2]),
    ("add with a bool argument", "add", [True, 2]),
    ("add with an argument above i32", "add", [I32_MAX + 1, 0]),
    ("ping with an extra argument", "ping", [1]),
    ("echo with an int", "echo", [5]),
    ("echo with bin", "echo", [b"bytes"]),
    ('calculate with op "ADD"', "calculate", [1, work(1, 2, "ADD")]),
    ("calculate with work missing op", "calculate", [1, {"num1": 1, "num2": 2}]),
    ("echoShape with flag as a str", "echoShape", [dict(SHAPE, flag="true")]),
    ("echoShape with a float tag", "echoShape", [dict(SHAPE, tags={"a": 1.5})]),
    ("sum with an element beyond i64", "sum", [[2**64 - 1]]),
    ("sum with a list of str", "sum", [["1"]]),
]


def make_invalid_params_check(label, method, params):
    @check("%s is invalid params (-32602)" % label)
    def _(c):
        expect_error(c.request(method, params), INVALID_PARAMS)


for _case in INVALID_PARAMS_CASES:
    make_invalid_params_check(*_case)


@check("msgid 2^32 - 1 (the largest u32) is answered with the same msgid")
def _(c):
    expect_result(c.request("add", [2, 2], msgid=2**32 - 1), 4)


# --- pipelining, large messages --------------------------------------------------------


@check("60 pipelined requests and notifications sent before reading any reply are all answered, matched by msgid")
def _(c):
    data = bytearray()
    expected = {}
    for i in range(60):
        msgid = 1000 + i
        if i % 4 == 0:
            message = [REQUEST, msgid, "add", [i, i]]
            expected[msgid] = ("result", 2 * i)
        elif i % 4 == 1:
            message = [REQUEST, msgid, "echo", ["msg %d ✓ 🎉" % i]]
            expected[msgid] = ("result", "msg %d ✓ 🎉" % i)
        elif i % 4 == 2:
            message = [REQUEST, msgid, "calculate", [i, work(i, 0, 4)]]
            expected[msgid] = ("error", 1)  # InvalidOperation: code 1, whatOp 4 in data
        else:
            data += c.stream.encode([NOTIFICATION, "zip", []])
            message = [REQUEST, msgid, "echoBinary", [bytes([i]) * i]]
            expected[msgid] = ("result", bytes([i]) * i)
        data += c.stream.encode(message)
    c.sock.sendall(bytes(data))
    seen = set()
    for _i in range(60):
        reply = c.recv_reply()
        msgid = reply[1]
        if msgid not in expected or msgid in seen:
            raise CheckFailed("unexpected or duplicate reply msgid %r: %r" % (msgid, short(reply)))
        seen.add(msgid)
        kind, value = expected[msgid]
        if kind == "result":
            expect_result(reply, value)
        else:
            expect_error(reply, value, "Cannot divide by 0")


@check("echo of a 1 MiB string (multi-byte characters included) comes back whole")
def _(c):
    text = ("0123456789abcdé🎉" * 70000)[: 1 << 20]
    expect_result(c.request("echo", [text]), text)


@check("echoBinary of 1 MiB comes back whole")
def _(c):
    data = bytes(i * 7 % 256 for i in range(1 << 20))
    expect_result(c.request("echoBinary", [data]), data)


@check("the connection still works after everything above")
def _(c):
    expect_result(c.request("add", [20, 22]), 42)


def main():
    parser = argparse.ArgumentParser(description="msgpack-rpc interop client of the Calculator contract")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--framing", default="self-delimiting", choices=FRAMINGS)
    args = parser.parse_args()
    try:
        client = Client(args.host, args.port, args.framing)
    except OSError as error:
        print("cannot connect to %s:%d: %s" % (args.host, args.port, error), file=sys.stderr)
        return 2
    try:
        for name, fn in CHECKS:
            try:
                fn(client)
            except CheckFailed as failure:
                print("FAIL [%s] %s: %s" % (args.framing, name, failure), file=sys.stderr, flush=True)
                return 1
            except OSError as error:
                print("FAIL [%s] %s: connection error %s" % (args.framing, name, error), file=sys.stderr, flush=True)
                return 1
            print("ok   [%s] %s" % (args.framing, name), flush=True)
        print("all %d checks passed (%s, msgpack %s)" % (
            len(CHECKS), args.framing, ".".join(map(str, msgpack.version))), flush=True)
        return 0
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
