#!/usr/bin/env python3
"""A JSON-RPC 2.0 client of the interop Calculator, Python standard library only.

Usage: python3 calculator_client.py HOST PORT [--framing newline|length-prefix|varint|content-length]

Exercises the whole contract of shared/interop/README.md against a running
calculator, prints one line per check, and exits 1 with a clear message on the
first failure (2 on a usage or connection error).
"""

import argparse
import base64
import json
import socket
import sys

TIMEOUT = 10.0
I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
SAFE_MAX = 2**53 - 1

INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
INVALID_REQUEST = -32600
PARSE_ERROR = -32700


class CheckFailed(Exception):
    pass


class Framer:
    """Writes and reads frames of one framing over a socket."""

    def __init__(self, sock, framing):
        self.sock = sock
        self.framing = framing
        self.buf = bytearray()

    def encode(self, body):
        if self.framing == "newline":
            if b"\n" in body:
                raise ValueError("newline framing: body contains a newline")
            return body + b"\n"
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

    def send(self, body):
        self.sock.sendall(self.encode(body))

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise CheckFailed("no reply within %.0f s" % TIMEOUT)
        if not chunk:
            raise CheckFailed("the server closed the connection")
        self.buf += chunk

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def recv(self):
        if self.framing == "newline":
            while True:
                i = self.buf.find(b"\n")
                if i >= 0:
                    line = bytes(self.buf[:i])
                    del self.buf[: i + 1]
                    if line.strip():
                        return line
                    continue
                self._fill()
        if self.framing == "length-prefix":
            n = int.from_bytes(self._take(4), "big")
            return self._take(n)
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
            return self._take(n)
        if self.framing == "content-length":
            while True:
                i = self.buf.find(b"\r\n\r\n")
                if i >= 0:
                    break
                self._fill()
            head = bytes(self.buf[:i]).decode("ascii")
            del self.buf[: i + 4]
            length = None
            for line in head.split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                raise CheckFailed("frame without a Content-Length header: %r" % head)
            return self._take(length)
        raise ValueError("unknown framing " + self.framing)


class Client:
    def __init__(self, host, port, framing):
        self.framing = framing
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.settimeout(TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.framer = Framer(self.sock, framing)
        self.next_id = 0

    def close(self):
        self.sock.close()

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def send_raw(self, body):
        self.framer.send(body)

    def send_json(self, value, ensure_ascii=False):
        self.send_raw(json.dumps(value, ensure_ascii=ensure_ascii, separators=(",", ":")).encode("utf-8"))

    def recv_json(self):
        frame = self.framer.recv()
        try:
            return json.loads(frame.decode("utf-8"))
        except ValueError as error:
            raise CheckFailed("reply is not JSON (%s): %r" % (error, frame[:200]))

    def request(self, method, params=None, id=None, ensure_ascii=False):
        """Sends one request and returns its reply, checked for shape and id."""
        if id is None:
            id = self.new_id()
        message = {"jsonrpc": "2.0", "method": method, "id": id}
        if params is not None:
            message["params"] = params
        self.send_json(message, ensure_ascii)
        reply = self.recv_json()
        check_reply_shape(reply)
        if reply.get("id") != id:
            raise CheckFailed("reply id %r, expected %r: %r" % (reply.get("id"), id, reply))
        return reply

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send_json(message)


def check_reply_shape(reply):
    if not isinstance(reply, dict):
        raise CheckFailed("reply is not an object: %r" % (reply,))
    if reply.get("jsonrpc") != "2.0":
        raise CheckFailed('reply without "jsonrpc": "2.0": %r' % (reply,))
    if "id" not in reply:
        raise CheckFailed("reply without an id: %r" % (reply,))
    if ("result" in reply) == ("error" in reply):
        raise CheckFailed("reply must have exactly one of result and error: %r" % (reply,))
    if "error" in reply:
        error = reply["error"]
        if not isinstance(error, dict) or type(error.get("code")) is not int or not isinstance(error.get("message"), str):
            raise CheckFailed("malformed error object: %r" % (reply,))


def expect_result(reply, expected):
    if "result" not in reply:
        raise CheckFailed("expected result %r, got error %r" % (expected, reply.get("error")))
    got = reply["result"]
    if got != expected or type(got) is not type(expected) and not (
        isinstance(got, (int, float)) and isinstance(expected, (int, float)) and not isinstance(got, bool)
    ):
        raise CheckFailed("expected result %r, got %r" % (expected, got))
    return got


def expect_error(reply, code, message=None, data=None):
    if "error" not in reply:
        raise CheckFailed("expected error %d, got result %r" % (code, reply.get("result")))
    error = reply["error"]
    if error.get("code") != code:
        raise CheckFailed("expected error code %d, got %r" % (code, error))
    if message is not None and error.get("message") != message:
        raise CheckFailed("expected error message %r, got %r" % (message, error))
    if data is not None and error.get("data") != data:
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


# --- ping, add --------------------------------------------------------------


@check("ping() without params answers null")
def _(c):
    expect_result(c.request("ping"), None)


@check("ping() with empty positional params answers null")
def _(c):
    expect_result(c.request("ping", []), None)


@check("add(1, 2) = 3")
def _(c):
    expect_result(c.request("add", [1, 2]), 3)


@check("add(-5, 3) = -2 and add(i32 min, i32 max) = -1")
def _(c):
    expect_result(c.request("add", [-5, 3]), -2)
    expect_result(c.request("add", [I32_MIN, I32_MAX]), -1)


@check('add by name {"num1": 40, "num2": 2} = 42, in either order')
def _(c):
    expect_result(c.request("add", {"num1": 40, "num2": 2}), 42)
    expect_result(c.request("add", {"num2": 2, "num1": 40}), 42)


@check("add(2147483647, 1) is InvalidOperation(1, overflow)")
def _(c):
    expect_error(c.request("add", [I32_MAX, 1]), **invalid_operation(1, "overflow"))


@check("add(-2147483648, -1) is InvalidOperation(1, overflow)")
def _(c):
    expect_error(c.request("add", [I32_MIN, -1]), **invalid_operation(1, "overflow"))


# --- calculate ----------------------------------------------------------------


def work(num1, num2, op, **extra):
    w = {"num1": num1, "num2": num2, "op": op}
    w.update(extra)
    return w


@check("calculate ADD 10 + 5 = 15")
def _(c):
    expect_result(c.request("calculate", [1, work(10, 5, 1)]), 15)


@check("calculate SUBTRACT 10 - 15 = -5")
def _(c):
    expect_result(c.request("calculate", [2, work(10, 15, 2)]), -5)


@check("calculate MULTIPLY 6 * -7 = -42")
def _(c):
    expect_result(c.request("calculate", [3, work(6, -7, 3)]), -42)


@check("calculate DIVIDE truncates toward zero: 7/2 = 3, -7/2 = -3, 7/-2 = -3, -7/-2 = 3")
def _(c):
    for a, b, q in [(7, 2, 3), (-7, 2, -3), (7, -2, -3), (-7, -2, 3), (0, 5, 0)]:
        expect_result(c.request("calculate", [4, work(a, b, 4)]), q)


@check("calculate with a comment, a null comment, and by name")
def _(c):
    expect_result(c.request("calculate", [5, work(1, 2, 1, comment="héllo")]), 3)
    expect_result(c.request("calculate", [5, work(1, 2, 1, comment=None)]), 3)
    expect_result(c.request("calculate", {"logid": 5, "w": work(9, 4, 2)}), 5)


@check("calculate DIVIDE by 0 is InvalidOperation(4, Cannot divide by 0)")
def _(c):
    expect_error(c.request("calculate", [1, work(1, 0, 4)]), **invalid_operation(4, "Cannot divide by 0"))


@check("calculate with unknown op 9 is InvalidOperation(9, Invalid operation)")
def _(c):
    expect_error(c.request("calculate", [1, work(1, 2, 9)]), **invalid_operation(9, "Invalid operation"))


@check("calculate with op 0 is InvalidOperation(0, Invalid operation)")
def _(c):
    expect_error(c.request("calculate", [1, work(1, 2, 0)]), **invalid_operation(0, "Invalid operation"))


@check("calculate MULTIPLY 65536 * 65536 is InvalidOperation(3, overflow)")
def _(c):
    expect_error(c.request("calculate", [1, work(65536, 65536, 3)]), **invalid_operation(3, "overflow"))


@check("calculate DIVIDE -2^31 / -1 is InvalidOperation(4, overflow)")
def _(c):
    expect_error(c.request("calculate", [1, work(I32_MIN, -1, 4)]), **invalid_operation(4, "overflow"))


@check("calculate ADD and SUBTRACT overflow are InvalidOperation(1|2, overflow)")
def _(c):
    expect_error(c.request("calculate", [1, work(I32_MAX, 1, 1)]), **invalid_operation(1, "overflow"))
    expect_error(c.request("calculate", [1, work(I32_MIN, 1, 2)]), **invalid_operation(2, "overflow"))


# --- echo, echoBinary, echoShape ----------------------------------------------

UNICODE = "héllo wörld — 日本語 ∑ 🎉 \"quoted\" back\\slash\ttab\nnewline \u0000 \u2028"


@check("echo returns Unicode text unchanged (raw UTF-8 on the wire)")
def _(c):
    expect_result(c.request("echo", [UNICODE]), UNICODE)


@check("echo returns Unicode text unchanged (\\u escapes and surrogate pairs on the wire)")
def _(c):
    expect_result(c.request("echo", [UNICODE], ensure_ascii=True), UNICODE)


@check("echo returns the empty string")
def _(c):
    expect_result(c.request("echo", [""]), "")


@check('echo by name {"text": ...}')
def _(c):
    expect_result(c.request("echo", {"text": "named"}), "named")


@check("echoBinary returns all 256 byte values as standard padded base64")
def _(c):
    data = bytes([0x00, 0xFF]) + bytes(range(256)) + bytes([0xFB, 0xFF, 0xBF])
    sent = base64.b64encode(data).decode("ascii")
    got = expect_result(c.request("echoBinary", [sent]), sent)
    if base64.b64decode(got, validate=True) != data:
        raise CheckFailed("bytes differ")


@check("echoBinary keeps padding: 1, 2 and 0 bytes")
def _(c):
    expect_result(c.request("echoBinary", ["AA=="]), "AA==")
    expect_result(c.request("echoBinary", ["AP8="]), "AP8=")
    expect_result(c.request("echoBinary", [""]), "")


@check("echoBinary with text that is not base64 is invalid params")
def _(c):
    expect_error(c.request("echoBinary", ["not base64!"]), INVALID_PARAMS)


SHAPE = {
    "name": "triangle ▲",
    "coords": [0.5, -1.25, 0.1, 1e300, -2.5e-300, 3.0],
    "tags": {"a": 1, "max": SAFE_MAX, "min": -SAFE_MAX, "zero": 0},
    "blob": base64.b64encode(b"\x00\x01\xfe\xff").decode("ascii"),
    "flag": True,
}


def expect_shape(got, expected):
    if not isinstance(got, dict) or set(got) != set(expected):
        raise CheckFailed("expected shape %r, got %r" % (expected, got))
    for key in expected:
        if got[key] != expected[key]:
            raise CheckFailed("shape field %r: expected %r, got %r" % (key, expected[key], got[key]))
    if got["flag"] is not expected["flag"]:
        raise CheckFailed("shape flag is not a boolean: %r" % (got["flag"],))


@check("echoShape round-trips name, double coords, i64 tags, base64 blob and flag")
def _(c):
    reply = c.request("echoShape", [SHAPE])
    expect_shape(reply.get("result", reply.get("error")), SHAPE)


@check("echoShape round-trips an empty shape with flag false, by name")
def _(c):
    empty = {"name": "", "coords": [], "tags": {}, "blob": "", "flag": False}
    reply = c.request("echoShape", {"s": empty})
    expect_shape(reply.get("result", reply.get("error")), empty)


# --- sum ----------------------------------------------------------------------


@check("sum([9007199254740991, 1, -1]) = 9007199254740991 (only the final result is range-checked)")
def _(c):
    expect_result(c.request("sum", [[SAFE_MAX, 1, -1]]), SAFE_MAX)


@check("sum([]) = 0 and sum([1, 2, 3, -10]) = -4")
def _(c):
    expect_result(c.request("sum", [[]]), 0)
    expect_result(c.request("sum", [[1, 2, 3, -10]]), -4)


@check("sum beyond the safe range is InvalidOperation(1, overflow)")
def _(c):
    expect_error(c.request("sum", [[SAFE_MAX, 1]]), **invalid_operation(1, "overflow"))
    expect_error(c.request("sum", [[-SAFE_MAX, -1]]), **invalid_operation(1, "overflow"))


@check("sum with an element beyond the safe range is invalid params")
def _(c):
    expect_error(c.request("sum", [[SAFE_MAX + 1]]), INVALID_PARAMS)


# --- invalid params -------------------------------------------------------------

INVALID_PARAMS_CASES = [
    ("add with a missing argument", "add", [1]),
    ("add with an extra argument", "add", [1, 2, 3]),
    ("add with a string argument", "add", ["1", 2]),
    ("add with a fractional argument", "add", [1.5, 2]),
    ("add with a null argument", "add", [None, 2]),
    ("add with an argument above i32", "add", [I32_MAX + 1, 0]),
    ("add with an argument below i32", "add", [0, I32_MIN - 1]),
    ("add with an unknown named argument", "add", {"num1": 1, "num2": 2, "num3": 3}),
    ("add with a missing named argument", "add", {"num1": 1}),
    ("ping with an extra argument", "ping", [1]),
    ("echo with a number", "echo", [5]),
    ('calculate with op "ADD"', "calculate", [1, work(1, 2, "ADD")]),
    ("calculate with work missing op", "calculate", [1, {"num1": 1, "num2": 2}]),
    ("calculate with num1 above i32", "calculate", [1, work(I32_MAX + 1, 2, 1)]),
    ("echoShape with flag as a string", "echoShape", [dict(SHAPE, flag="true")]),
    ("echoShape with a fractional tag", "echoShape", [dict(SHAPE, tags={"a": 1.5})]),
    ("sum with a list of strings", "sum", [["1"]]),
]


def make_invalid_params_check(label, method, params):
    @check("%s is invalid params (-32602)" % label)
    def _(c):
        expect_error(c.request(method, params), INVALID_PARAMS)


for _case in INVALID_PARAMS_CASES:
    make_invalid_params_check(*_case)


# --- protocol errors --------------------------------------------------------------


@check("an unknown method is method not found (-32601)")
def _(c):
    expect_error(c.request("noSuchMethod", [1]), METHOD_NOT_FOUND)


@check("a string id is echoed unchanged")
def _(c):
    reply = c.request("add", [2, 2], id="call-ü-1")
    expect_result(reply, 4)


@check("malformed JSON is a parse error (-32700) with id null, and the connection still works")
def _(c):
    c.send_raw(b'{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": ')
    reply = c.recv_json()
    check_reply_shape(reply)
    expect_error(reply, PARSE_ERROR)
    if reply["id"] is not None:
        raise CheckFailed("parse error reply id %r, expected null" % (reply["id"],))
    expect_result(c.request("ping"), None)


@check("invalid UTF-8 gets a well-formed reply (a parse error or a result), and the connection still works")
def _(c):
    c.send_raw(b'{"jsonrpc":"2.0","method":"echo","params":["\xff\xfe"],"id":"utf8"}')
    reply = c.recv_json()
    check_reply_shape(reply)
    if "error" in reply:
        expect_error(reply, PARSE_ERROR)
    elif reply["id"] != "utf8":
        raise CheckFailed("reply id %r, expected \"utf8\"" % (reply["id"],))
    expect_result(c.request("ping"), None)


@check('{"jsonrpc":"2.0","method":1,"id":5} is invalid request (-32600), id 5 or null')
def _(c):
    c.send_raw(b'{"jsonrpc":"2.0","method":1,"id":5}')
    reply = c.recv_json()
    check_reply_shape(reply)
    expect_error(reply, INVALID_REQUEST)
    if reply["id"] not in (5, None):
        raise CheckFailed("invalid request reply id %r, expected 5 or null" % (reply["id"],))
    expect_result(c.request("ping"), None)


@check('params as a string is invalid request (-32600)')
def _(c):
    c.send_raw(b'{"jsonrpc":"2.0","method":"add","params":"bar","id":6}')
    reply = c.recv_json()
    check_reply_shape(reply)
    expect_error(reply, INVALID_REQUEST)


@check('a request without "jsonrpc": "2.0" is invalid request (-32600)')
def _(c):
    c.send_raw(b'{"method":"add","params":[1,2],"id":7}')
    reply = c.recv_json()
    check_reply_shape(reply)
    expect_error(reply, INVALID_REQUEST)


@check("a bare number is invalid request (-32600) with id null")
def _(c):
    c.send_raw(b"1")
    reply = c.recv_json()
    check_reply_shape(reply)
    expect_error(reply, INVALID_REQUEST)
    if reply["id"] is not None:
        raise CheckFailed("reply id %r, expected null" % (reply["id"],))


@check("an empty batch is one invalid request (-32600) error, not an array")
def _(c):
    c.send_raw(b"[]")
    reply = c.recv_json()
    check_reply_shape(reply)
    expect_error(reply, INVALID_REQUEST)


# --- batches, notifications, pipelining ------------------------------------------


@check("a batch of calls, errors and a notification answers an array of replies matched by id")
def _(c):
    batch = [
        {"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": "b1"},
        {"jsonrpc": "2.0", "method": "echo", "params": ["batched"], "id": 102},
        {"jsonrpc": "2.0", "method": "zip"},
        {"jsonrpc": "2.0", "method": "add", "params": [I32_MAX, 1], "id": 103},
        {"jsonrpc": "2.0", "method": "noSuchMethod", "id": 104},
        {"jsonrpc": "2.0", "method": "add", "params": ["x"], "id": 105},
        1,
    ]
    c.send_json(batch)
    replies = c.recv_json()
    if not isinstance(replies, list):
        raise CheckFailed("expected an array of replies, got %r" % (replies,))
    if len(replies) != 6:
        raise CheckFailed("expected 6 replies (none for the notification), got %d: %r" % (len(replies), replies))
    by_id = {}
    for reply in replies:
        check_reply_shape(reply)
        if reply["id"] in by_id:
            raise CheckFailed("two replies with id %r" % (reply["id"],))
        by_id[reply["id"]] = reply
    for id in ["b1", 102, 103, 104, 105, None]:
        if id not in by_id:
            raise CheckFailed("no reply with id %r in %r" % (id, replies))
    expect_result(by_id["b1"], 3)
    expect_result(by_id[102], "batched")
    expect_error(by_id[103], **invalid_operation(1, "overflow"))
    expect_error(by_id[104], METHOD_NOT_FOUND)
    expect_error(by_id[105], INVALID_PARAMS)
    expect_error(by_id[None], INVALID_REQUEST)


@check("a batch of notifications only gets no reply (the next reply is ping's)")
def _(c):
    c.send_json([{"jsonrpc": "2.0", "method": "zip"}, {"jsonrpc": "2.0", "method": "zip"}])
    expect_result(c.request("ping", id="after-batch"), None)


@check("zip as a notification gets no reply (the next reply is ping's)")
def _(c):
    c.notify("zip")
    c.notify("zip", [])
    expect_result(c.request("ping", id="after-zip"), None)


@check("a notification of an unknown method or with bad params gets no reply")
def _(c):
    c.notify("noSuchMethod", [1])
    c.notify("add", ["x"])
    expect_result(c.request("ping", id="after-bad-notifications"), None)


@check("zip called with an id answers null")
def _(c):
    expect_result(c.request("zip"), None)


@check("50 pipelined requests sent before reading any reply are all answered, matched by id")
def _(c):
    frames = bytearray()
    expected = {}
    for i in range(50):
        id = 1000 + i
        if i % 3 == 0:
            message = {"jsonrpc": "2.0", "method": "add", "params": [i, i], "id": id}
            expected[id] = ("result", 2 * i)
        elif i % 3 == 1:
            message = {"jsonrpc": "2.0", "method": "echo", "params": ["msg %d ✓" % i], "id": id}
            expected[id] = ("result", "msg %d ✓" % i)
        else:
            message = {"jsonrpc": "2.0", "method": "calculate", "params": [i, work(i, 0, 4)], "id": id}
            expected[id] = ("error", 1)  # InvalidOperation: code 1, whatOp 4 in data
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        frames += c.framer.encode(body)
    c.sock.sendall(bytes(frames))
    seen = set()
    for _i in range(50):
        reply = c.recv_json()
        check_reply_shape(reply)
        id = reply["id"]
        if id not in expected or id in seen:
            raise CheckFailed("unexpected or duplicate reply id %r" % (id,))
        seen.add(id)
        kind, value = expected[id]
        if kind == "result":
            expect_result(reply, value)
        else:
            expect_error(reply, value, "Cannot divide by 0")


@check("the connection still works after everything above")
def _(c):
    expect_result(c.request("add", [20, 22]), 42)


def main():
    parser = argparse.ArgumentParser(description="JSON-RPC interop client of the Calculator contract")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument(
        "--framing",
        default="newline",
        choices=["newline", "length-prefix", "varint", "content-length"],
    )
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
        print("all %d checks passed (%s)" % (len(CHECKS), args.framing), flush=True)
        return 0
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
