#!/usr/bin/env python3
"""A WebSocket client of the interop Calculator, on python3-websockets (asyncio).

Usage: python3 ws_jsonrpc_client.py URL [--codec jsonrpc|msgpack]

URL is the calculator's `listening ws://HOST:PORT/rpc` URL (`--transport ws`).
With `--codec jsonrpc` (the default) every JSON-RPC 2.0 message is one text
message; with `--codec msgpack` every msgpack-rpc message is one binary message
(python3-msgpack). Prints one line per check and exits 1 with a clear message
on the first failure (2 on a usage, import or connection error).

Debian's python3-websockets and python3-msgpack are importable by
`/usr/bin/python3`; run it with that.
"""

import argparse
import asyncio
import base64
import json
import sys

try:
    import websockets
    from websockets.exceptions import ConnectionClosed
except ImportError as error:  # pragma: no cover - depends on the machine
    print("cannot import websockets (%s): run with an interpreter that has python3-websockets, "
          "such as /usr/bin/python3" % error, file=sys.stderr)
    sys.exit(2)

TIMEOUT = 10.0
I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
I64_MAX = 2**63 - 1
SAFE_MAX = 2**53 - 1

PARSE_ERROR = -32700
INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601

UNICODE = "héllo wörld — 日本語 ∑ 🎉 𝄞 \"quoted\" back\\slash\ttab\nnewline \u0000 \u2028"


class CheckFailed(Exception):
    pass


def short(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "... (%d chars)" % len(text)


def same(got, expected):
    """Equal and of the same type (bool is not int, bytes is not str)."""
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(same(g, e) for g, e in zip(got, expected))
    if isinstance(expected, dict):
        return set(got) == set(expected) and all(same(got[k], expected[k]) for k in expected)
    return got == expected


def invalid_operation(what_op, why):
    return {"code": 1, "message": why, "data": {"whatOp": what_op, "why": why}}


def work(num1, num2, op):
    return {"num1": num1, "num2": num2, "op": op}


class Socket:
    """One WebSocket connection: sends messages, reads them with a timeout."""

    def __init__(self, ws, binary):
        self.ws = ws
        self.binary = binary
        self.next_id = 0

    def new_id(self):
        self.next_id += 1
        return self.next_id

    async def send(self, message):
        await self.ws.send(message)

    async def recv(self):
        try:
            message = await asyncio.wait_for(self.ws.recv(), TIMEOUT)
        except asyncio.TimeoutError:
            raise CheckFailed("no message within %.0f s" % TIMEOUT)
        except ConnectionClosed as closed:
            raise CheckFailed("the server closed the connection: %s" % closed)
        if self.binary and not isinstance(message, bytes):
            raise CheckFailed("expected a binary message, got text %s" % short(message))
        if not self.binary and not isinstance(message, str):
            raise CheckFailed("expected a text message, got binary %s" % short(message))
        return message

    async def nothing_within(self, seconds):
        """Fails if a message arrives within `seconds`."""
        try:
            message = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        raise CheckFailed("expected no message, got %s" % short(message))


# --- JSON-RPC 2.0, one text message per message --------------------------------------


class JsonRpc(Socket):
    def __init__(self, ws):
        super().__init__(ws, binary=False)

    async def send_json(self, value, ensure_ascii=False):
        await self.send(json.dumps(value, ensure_ascii=ensure_ascii, separators=(",", ":")))

    async def recv_json(self):
        text = await self.recv()
        try:
            return json.loads(text)
        except ValueError as error:
            raise CheckFailed("a message is not JSON (%s): %s" % (error, short(text)))

    async def request(self, method, params=None, id=None, ensure_ascii=False):
        if id is None:
            id = self.new_id()
        message = {"jsonrpc": "2.0", "method": method, "id": id}
        if params is not None:
            message["params"] = params
        await self.send_json(message, ensure_ascii)
        reply = await self.recv_json()
        check_json_reply(reply)
        if reply["id"] != id:
            raise CheckFailed("reply id %r, expected %r: %s" % (reply["id"], id, short(reply)))
        return reply

    async def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send_json(message)


def check_json_reply(reply):
    if not isinstance(reply, dict) or reply.get("jsonrpc") != "2.0" or "id" not in reply:
        raise CheckFailed("not a JSON-RPC 2.0 reply: %s" % short(reply))
    if ("result" in reply) == ("error" in reply):
        raise CheckFailed("a reply has exactly one of result and error: %s" % short(reply))
    if "error" in reply:
        error = reply["error"]
        if not isinstance(error, dict) or type(error.get("code")) is not int or not isinstance(error.get("message"), str):
            raise CheckFailed("malformed error object: %s" % short(reply))


def json_result(reply, expected):
    if "result" not in reply:
        raise CheckFailed("expected result %s, got error %r" % (short(expected), reply["error"]))
    if reply["result"] != expected or type(reply["result"]) is not type(expected):
        raise CheckFailed("expected result %s, got %s" % (short(expected), short(reply["result"])))
    return reply["result"]


def json_error(reply, code, message=None, data=None):
    if "error" not in reply:
        raise CheckFailed("expected error %d, got result %s" % (code, short(reply["result"])))
    error = reply["error"]
    if error["code"] != code:
        raise CheckFailed("expected error code %d, got %r" % (code, error))
    if message is not None and error["message"] != message:
        raise CheckFailed("expected error message %r, got %r" % (message, error))
    if data is not None and error.get("data") != data:
        raise CheckFailed("expected error data %r, got %r" % (data, error))
    return error


JSON_CHECKS = []


def json_check(name):
    def register(fn):
        JSON_CHECKS.append((name, fn))
        return fn

    return register


@json_check("add(1, 2) = 3, add(i32 min, i32 max) = -1, add by name = 42")
async def _(c):
    json_result(await c.request("add", [1, 2]), 3)
    json_result(await c.request("add", [I32_MIN, I32_MAX]), -1)
    json_result(await c.request("add", {"num1": 40, "num2": 2}), 42)


@json_check("add(i32 max, 1) is InvalidOperation(1, overflow) with data")
async def _(c):
    json_error(await c.request("add", [I32_MAX, 1]), **invalid_operation(1, "overflow"))


@json_check("calculate ADD 10 + 5 = 15, MULTIPLY 6 * -7 = -42, DIVIDE -7 / 2 = -3")
async def _(c):
    json_result(await c.request("calculate", [1, work(10, 5, 1)]), 15)
    json_result(await c.request("calculate", [3, work(6, -7, 3)]), -42)
    json_result(await c.request("calculate", [4, work(-7, 2, 4)]), -3)


@json_check("calculate DIVIDE by 0 is InvalidOperation(4, Cannot divide by 0) with data")
async def _(c):
    json_error(await c.request("calculate", [1, work(1, 0, 4)]), **invalid_operation(4, "Cannot divide by 0"))


@json_check("echo returns Unicode text unchanged (raw UTF-8 and \\u escapes)")
async def _(c):
    json_result(await c.request("echo", [UNICODE]), UNICODE)
    json_result(await c.request("echo", [UNICODE], ensure_ascii=True), UNICODE)
    json_result(await c.request("echo", [""]), "")


@json_check("echoBinary returns all 256 byte values as standard padded base64")
async def _(c):
    data = bytes(range(256)) + b"\xfb\xff\xbf"
    sent = base64.b64encode(data).decode("ascii")
    got = json_result(await c.request("echoBinary", [sent]), sent)
    if base64.b64decode(got, validate=True) != data:
        raise CheckFailed("bytes differ")
    json_result(await c.request("echoBinary", ["AA=="]), "AA==")
    json_result(await c.request("echoBinary", [""]), "")


@json_check("echoBinary with text that is not base64 is invalid params (-32602)")
async def _(c):
    json_error(await c.request("echoBinary", ["not base64!"]), INVALID_PARAMS)


@json_check("sum([1, 2, 3, -10]) = -4, sum([2^53-1, 1, -1]) = 2^53-1, sum beyond 2^53 is overflow")
async def _(c):
    json_result(await c.request("sum", [[1, 2, 3, -10]]), -4)
    json_result(await c.request("sum", [[SAFE_MAX, 1, -1]]), SAFE_MAX)
    json_error(await c.request("sum", [[SAFE_MAX, 1]]), **invalid_operation(1, "overflow"))


@json_check("zip as a notification gets no reply (the next message is ping's reply)")
async def _(c):
    await c.notify("zip")
    await c.notify("zip", [])
    await c.notify("noSuchMethod", [1])
    json_result(await c.request("ping", id="after-zip"), None)


@json_check("a batch in one message is answered in one message, matched by id, notification left out")
async def _(c):
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "add", "params": [2, 3]},
        {"jsonrpc": "2.0", "method": "zip"},
        {"jsonrpc": "2.0", "id": "b", "method": "echo", "params": ["batch ✓"]},
        {"jsonrpc": "2.0", "id": "c", "method": "calculate", "params": [1, work(1, 0, 4)]},
        {"jsonrpc": "2.0", "id": "d", "method": "noSuchMethod"},
    ]
    await c.send_json(batch)
    replies = await c.recv_json()
    if not isinstance(replies, list) or len(replies) != 4:
        raise CheckFailed("expected an array of 4 replies, got %s" % short(replies))
    by_id = {}
    for reply in replies:
        check_json_reply(reply)
        by_id[reply["id"]] = reply
    if set(by_id) != {"a", "b", "c", "d"}:
        raise CheckFailed("reply ids %r, expected a, b, c, d" % sorted(by_id, key=str))
    json_result(by_id["a"], 5)
    json_result(by_id["b"], "batch ✓")
    json_error(by_id["c"], **invalid_operation(4, "Cannot divide by 0"))
    json_error(by_id["d"], METHOD_NOT_FOUND)


@json_check("a batch of notifications only gets no reply")
async def _(c):
    await c.send_json([{"jsonrpc": "2.0", "method": "zip"}, {"jsonrpc": "2.0", "method": "zip", "params": []}])
    json_result(await c.request("ping", id="after-batch"), None)


@json_check("50 requests sent before reading any reply are all answered, matched by id")
async def _(c):
    expected = {}
    for i in range(50):
        id = 1000 + i
        if i % 3 == 0:
            message = {"jsonrpc": "2.0", "id": id, "method": "add", "params": [i, i]}
            expected[id] = ("result", 2 * i)
        elif i % 3 == 1:
            message = {"jsonrpc": "2.0", "id": id, "method": "echo", "params": ["msg %d ✓ 🎉" % i]}
            expected[id] = ("result", "msg %d ✓ 🎉" % i)
        else:
            message = {"jsonrpc": "2.0", "id": id, "method": "calculate", "params": [i, work(i, 0, 4)]}
            expected[id] = ("error", 1)  # InvalidOperation: code 1, whatOp 4 in data
        await c.send_json(message)
    seen = set()
    for _i in range(50):
        reply = await c.recv_json()
        check_json_reply(reply)
        id = reply["id"]
        if id not in expected or id in seen:
            raise CheckFailed("unexpected or duplicate reply id %r: %s" % (id, short(reply)))
        seen.add(id)
        kind, value = expected[id]
        if kind == "result":
            json_result(reply, value)
        else:
            json_error(reply, value, "Cannot divide by 0")


@json_check("an unknown method is method not found (-32601)")
async def _(c):
    json_error(await c.request("noSuchMethod", [1]), METHOD_NOT_FOUND)


@json_check("a message that is not JSON is a parse error (-32700, id null) and the socket stays open")
async def _(c):
    await c.send("{this is not json")
    reply = await c.recv_json()
    check_json_reply(reply)
    if reply["id"] is not None:
        raise CheckFailed("a parse error's id is null, got %s" % short(reply))
    json_error(reply, PARSE_ERROR)
    json_result(await c.request("add", [4, 4]), 8)


@json_check("echo of a 1 MiB string (multi-byte characters included) comes back whole")
async def _(c):
    text = ("0123456789abcdé🎉" * 70000)[: 1 << 20]
    json_result(await c.request("echo", [text]), text)


@json_check("the connection still works after everything above")
async def _(c):
    json_result(await c.request("add", [20, 22]), 42)


# --- msgpack-rpc, one binary message per message ---------------------------------------


REQUEST = 0
RESPONSE = 1
NOTIFICATION = 2


class MsgpackRpc(Socket):
    def __init__(self, ws):
        super().__init__(ws, binary=True)

    async def send_msg(self, message):
        await self.send(msgpack.packb(message, use_bin_type=True))

    async def recv_reply(self):
        data = await self.recv()
        try:
            reply = msgpack.unpackb(data, raw=False, strict_map_key=False)
        except (ValueError, msgpack.ExtraData) as error:
            raise CheckFailed("a message is not one msgpack value (%s): %s" % (error, short(data)))
        if not isinstance(reply, list) or len(reply) != 4 or reply[0] != RESPONSE:
            raise CheckFailed("a reply is [1, msgid, error, result], got %s" % short(reply))
        return reply

    async def request(self, method, params=None, msgid=None):
        if msgid is None:
            msgid = self.new_id()
        await self.send_msg([REQUEST, msgid, method, [] if params is None else params])
        reply = await self.recv_reply()
        if reply[1] != msgid:
            raise CheckFailed("reply msgid %r, expected %r: %s" % (reply[1], msgid, short(reply)))
        return reply

    async def notify(self, method, params=None):
        await self.send_msg([NOTIFICATION, method, [] if params is None else params])


def mp_result(reply, expected):
    if reply[2] is not None:
        raise CheckFailed("expected result %s, got error %r" % (short(expected), reply[2]))
    if not same(reply[3], expected):
        raise CheckFailed("expected result %s, got %s" % (short(expected), short(reply[3])))
    return reply[3]


def mp_error(reply, code, message=None, data=None):
    error = reply[2]
    if not isinstance(error, dict):
        raise CheckFailed("expected an error map with code %d, got %s" % (code, short(reply)))
    if error.get("code") != code:
        raise CheckFailed("expected error code %d, got %r" % (code, error))
    if message is not None and error.get("message") != message:
        raise CheckFailed("expected error message %r, got %r" % (message, error))
    if data is not None and not same(error.get("data"), data):
        raise CheckFailed("expected error data %r, got %r" % (data, error))
    return error


MSGPACK_CHECKS = []


def msgpack_check(name):
    def register(fn):
        MSGPACK_CHECKS.append((name, fn))
        return fn

    return register


@msgpack_check("add(1, 2) = 3, add(i32 min, i32 max) = -1")
async def _(c):
    mp_result(await c.request("add", [1, 2]), 3)
    mp_result(await c.request("add", [I32_MIN, I32_MAX]), -1)


@msgpack_check("calculate MULTIPLY 6 * -7 = -42; DIVIDE by 0 is InvalidOperation(4, Cannot divide by 0) with data")
async def _(c):
    mp_result(await c.request("calculate", [3, work(6, -7, 3)]), -42)
    mp_error(await c.request("calculate", [1, work(1, 0, 4)]), **invalid_operation(4, "Cannot divide by 0"))


@msgpack_check("echo returns Unicode text unchanged (astral characters included)")
async def _(c):
    text = UNICODE + " \U0010FFFF"
    mp_result(await c.request("echo", [text]), text)


@msgpack_check("echoBinary returns all 256 byte values as msgpack bin")
async def _(c):
    data = bytes(range(256)) + b"\x00\xff"
    mp_result(await c.request("echoBinary", [data]), data)
    mp_result(await c.request("echoBinary", [b""]), b"")


@msgpack_check("sum([2^63-1, 1, -1]) = 2^63-1; sum beyond i64 is InvalidOperation(1, overflow)")
async def _(c):
    mp_result(await c.request("sum", [[I64_MAX, 1, -1]]), I64_MAX)
    mp_error(await c.request("sum", [[I64_MAX, 1]]), **invalid_operation(1, "overflow"))


@msgpack_check("zip as a notification gets no reply (the next message is ping's reply)")
async def _(c):
    await c.notify("zip")
    await c.notify("noSuchMethod", [1])
    mp_result(await c.request("ping", msgid=4242), None)


@msgpack_check("40 requests sent before reading any reply are all answered, matched by msgid")
async def _(c):
    expected = {}
    for i in range(40):
        msgid = 1000 + i
        if i % 2 == 0:
            await c.send_msg([REQUEST, msgid, "echoBinary", [bytes([i]) * i]])
            expected[msgid] = ("result", bytes([i]) * i)
        else:
            await c.send_msg([REQUEST, msgid, "calculate", [i, work(i, 0, 4)]])
            expected[msgid] = ("error", 1)  # InvalidOperation: code 1, whatOp 4 in data
    seen = set()
    for _i in range(40):
        reply = await c.recv_reply()
        msgid = reply[1]
        if msgid not in expected or msgid in seen:
            raise CheckFailed("unexpected or duplicate reply msgid %r: %s" % (msgid, short(reply)))
        seen.add(msgid)
        kind, value = expected[msgid]
        if kind == "result":
            mp_result(reply, value)
        else:
            mp_error(reply, value, "Cannot divide by 0")


@msgpack_check("an unknown method is method not found (-32601)")
async def _(c):
    mp_error(await c.request("noSuchMethod", [1]), METHOD_NOT_FOUND)


@msgpack_check("echoBinary of 1 MiB comes back whole")
async def _(c):
    data = bytes(i * 7 % 256 for i in range(1 << 20))
    mp_result(await c.request("echoBinary", [data]), data)


@msgpack_check("the connection still works after everything above")
async def _(c):
    mp_result(await c.request("add", [20, 22]), 42)


async def text_to_binary_codec(url):
    """A text message to the msgpack route closes that socket with 1003."""
    async with websockets.connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        await ws.send("[0, 1, \"add\", [1, 2]]")
        try:
            message = await asyncio.wait_for(ws.recv(), TIMEOUT)
            raise CheckFailed("expected the socket to close, got a message %s" % short(message))
        except ConnectionClosed:
            pass
        await ws.wait_closed()
        if ws.close_code != 1003:
            raise CheckFailed("expected close code 1003, got %r (%r)" % (ws.close_code, ws.close_reason))


async def run(url, codec):
    label = "ws %s" % codec
    checks = JSON_CHECKS if codec == "jsonrpc" else MSGPACK_CHECKS
    try:
        ws = await websockets.connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, max_size=16 * 2**20)
    except (OSError, asyncio.TimeoutError, websockets.exceptions.InvalidHandshake) as error:
        print("cannot connect to %s: %s" % (url, error), file=sys.stderr)
        return 2
    client = JsonRpc(ws) if codec == "jsonrpc" else MsgpackRpc(ws)
    try:
        for name, fn in checks:
            try:
                await fn(client)
            except CheckFailed as failure:
                print("FAIL [%s] %s: %s" % (label, name, failure), file=sys.stderr, flush=True)
                return 1
            print("ok   [%s] %s" % (label, name), flush=True)
        await ws.close()
        if ws.close_code != 1000:
            print("FAIL [%s] a normal close is answered with 1000, got %r" % (label, ws.close_code),
                  file=sys.stderr, flush=True)
            return 1
        print("ok   [%s] a normal close is answered with 1000" % label, flush=True)
        count = len(checks) + 1
        if codec == "msgpack":
            name = "a text message closes the socket with 1003 (binary messages only)"
            try:
                await text_to_binary_codec(url)
            except CheckFailed as failure:
                print("FAIL [%s] %s: %s" % (label, name, failure), file=sys.stderr, flush=True)
                return 1
            print("ok   [%s] %s" % (label, name), flush=True)
            count += 1
        print("all %d checks passed (%s, websockets %s)" % (count, label, websockets.__version__), flush=True)
        return 0
    finally:
        await ws.close()


def main():
    parser = argparse.ArgumentParser(description="WebSocket interop client of the Calculator contract")
    parser.add_argument("url")
    parser.add_argument("--codec", default="jsonrpc", choices=["jsonrpc", "msgpack"])
    args = parser.parse_args()
    if args.codec == "msgpack":
        global msgpack
        try:
            import msgpack
        except ImportError as error:  # pragma: no cover - depends on the machine
            print("cannot import msgpack (%s): run with an interpreter that has python3-msgpack, "
                  "such as /usr/bin/python3" % error, file=sys.stderr)
            return 2
    return asyncio.run(run(args.url, args.codec))


if __name__ == "__main__":
    sys.exit(main())
