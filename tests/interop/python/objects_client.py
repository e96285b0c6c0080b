#!/usr/bin/env python3
"""A client of parley's remote objects protocol over JSON-RPC 2.0, Python standard library only.

Usage: python3 objects_client.py HOST PORT

Speaks newline-delimited JSON-RPC over TCP to a server whose root object exposes
makeCounter(start), stats(), echo(value), numbers(count) (an async iterable of
0..count-1) and a hidden _secret() (see the section
"Remote objects" of docs/protocol.md). The client is a full peer: a reader thread
answers the server's calls to the client's own exports (a progress callback) while
the main thread waits for its replies. Prints one line per check, and exits 1 with
a clear message on the first failure (2 on a usage or connection error).
"""

import argparse
import json
import socket
import sys
import threading
import time

TIMEOUT = 10.0

INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
UNKNOWN_REFERENCE = -32001
NOT_EXPOSED = -32002


class CheckFailed(Exception):
    pass


def count_refs(value, counts):
    """Counts every reference {"$ref": N, ...} received in a value (an escaped object's own keys are
    literal, its values are still values)."""
    if isinstance(value, list):
        for item in value:
            count_refs(item, counts)
    elif isinstance(value, dict):
        if "$ref" in value and isinstance(value["$ref"], int):
            counts[value["$ref"]] = counts.get(value["$ref"], 0) + 1
        elif "$esc" in value and len(value) == 1:
            if isinstance(value["$esc"], dict):
                for item in value["$esc"].values():
                    count_refs(item, counts)
        else:
            for item in value.values():
                count_refs(item, counts)


class Peer:
    """One newline-delimited JSON-RPC connection on which both ends may call."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.settimeout(None)  # the reader blocks; every wait below is bounded instead
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.write_lock = threading.Lock()
        self.cond = threading.Condition()
        self.replies = {}  # id -> reply message
        self.notifications = []  # incoming notifications, in order
        self.incoming = []  # incoming requests, in order
        self.problems = []  # malformed messages from the server
        self.ref_counts = {}  # export id of the server -> how many times {"$ref": N} was received
        self.exports = {}  # my export id -> Python callable
        self.closed = None
        self.next_id = 0
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # --- writing ---

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def encode(self, message):
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"

    def send_many(self, messages):
        """Writes several messages in one write."""
        data = b"".join(self.encode(m) for m in messages)
        with self.write_lock:
            self.sock.sendall(data)

    def send(self, message):
        self.send_many([message])

    def request_message(self, method, params, id=None):
        if id is None:
            id = self.new_id()
        message = {"jsonrpc": "2.0", "method": method, "id": id}
        if params is not None:
            message["params"] = params
        return message

    def request(self, method, params=None):
        message = self.request_message(method, params)
        self.send(message)
        return self.wait(message["id"])

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def wait(self, id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while id not in self.replies:
                if self.problems:
                    raise CheckFailed("malformed message from the server: %s" % self.problems[0])
                if self.closed is not None:
                    raise CheckFailed("the connection closed while waiting for reply %r: %s" % (id, self.closed))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CheckFailed("no reply to request %r within %.0f s" % (id, timeout))
                self.cond.wait(left)
            return self.replies.pop(id)

    # --- reading ---

    def _read_loop(self):
        buf = bytearray()
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self._close("the server closed the connection")
                    return
                buf += chunk
                while True:
                    i = buf.find(b"\n")
                    if i < 0:
                        break
                    line = bytes(buf[:i]).strip()
                    del buf[: i + 1]
                    if line:
                        self._receive(line)
        except OSError as error:
            self._close("connection error: %s" % error)

    def _close(self, why):
        with self.cond:
            if self.closed is None:
                self.closed = why
            self.cond.notify_all()

    def _problem(self, why):
        with self.cond:
            self.problems.append(why)
            self.cond.notify_all()

    def _receive(self, line):
        try:
            message = json.loads(line.decode("utf-8"))
        except ValueError as error:
            self._problem("not JSON (%s): %r" % (error, line[:200]))
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self._problem('not a JSON-RPC 2.0 message object: %r' % (message,))
            return
        if "method" in message:
            with self.cond:
                count_refs(message.get("params"), self.ref_counts)
            if "id" in message:
                with self.cond:
                    self.incoming.append(message)
                self._serve(message)
            else:
                with self.cond:
                    self.notifications.append(message)
                    self.cond.notify_all()
            return
        why = reply_shape_problem(message)
        if why:
            self._problem(why)
            return
        with self.cond:
            count_refs(message.get("result"), self.ref_counts)
            self.replies[message["id"]] = message
            self.cond.notify_all()

    def _serve(self, message):
        """Answers a call of the server to one of my exports, from the reader thread."""
        reply = {"jsonrpc": "2.0", "id": message["id"]}
        params = message.get("params")
        if message["method"] != "$/call":
            reply["error"] = {"code": METHOD_NOT_FOUND, "message": "Method not found: %s" % message["method"]}
        elif not isinstance(params, list) or len(params) not in (3, 4) or not isinstance(params[1], list) or not isinstance(params[2], list):
            reply["error"] = {"code": INVALID_PARAMS, "message": "Invalid params"}
        else:
            target, path, args = params[0], params[1], params[2]
            fn = None
            if isinstance(target, dict) and set(target) == {"$you"}:
                fn = self.exports.get(target["$you"])
            if fn is None:
                reply["error"] = {"code": UNKNOWN_REFERENCE, "message": "Unknown reference %r" % (target,)}
            elif path != []:
                reply["error"] = {"code": NOT_EXPOSED, "message": "Not exposed: %r" % (path,)}
            else:
                try:
                    reply["result"] = fn(*args)
                except Exception as error:  # the callback's own failure, reported to the caller
                    reply["error"] = {"code": -32000, "message": str(error)}
        try:
            self.send(reply)
        except OSError as error:
            self._close("connection error: %s" % error)


def reply_shape_problem(reply):
    if "id" not in reply:
        return "reply without an id: %r" % (reply,)
    if ("result" in reply) == ("error" in reply):
        return "reply must have exactly one of result and error: %r" % (reply,)
    if "error" in reply:
        error = reply["error"]
        if not isinstance(error, dict) or type(error.get("code")) is not int or not isinstance(error.get("message"), str):
            return "malformed error object: %r" % (reply,)
    return None


def same(got, expected):
    """Equality that tells booleans from numbers."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, (int, float)):
        return isinstance(got, (int, float)) and got == expected
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(same(g, e) for g, e in zip(got, expected))
    if isinstance(expected, dict):
        return isinstance(got, dict) and set(got) == set(expected) and all(same(got[k], expected[k]) for k in expected)
    return type(got) is type(expected) and got == expected


def expect_result(reply, expected):
    if "result" not in reply:
        raise CheckFailed("expected result %r, got error %r" % (expected, reply.get("error")))
    if not same(reply["result"], expected):
        raise CheckFailed("expected result %r, got %r" % (expected, reply["result"]))
    return reply["result"]


def expect_error(reply, code):
    if "error" not in reply:
        raise CheckFailed("expected error %d, got result %r" % (code, reply.get("result")))
    if reply["error"].get("code") != code:
        raise CheckFailed("expected error code %d, got %r" % (code, reply["error"]))
    return reply["error"]


def expect_ref(reply, type_):
    if "result" not in reply:
        raise CheckFailed("expected a reference, got error %r" % (reply.get("error"),))
    ref = reply["result"]
    if (
        not isinstance(ref, dict)
        or set(ref) != {"$ref", "type"}
        or type(ref["$ref"]) is not int
        or ref["$ref"] <= 0
        or ref["type"] != type_
    ):
        raise CheckFailed('expected {"$ref": N, "type": %r} with N a positive integer, got %r' % (type_, ref))
    return ref["$ref"]


def exports(peer):
    reply = root_call(peer, "stats", [])
    result = reply.get("result")
    if not isinstance(result, dict) or type(result.get("exports")) is not int:
        raise CheckFailed('stats: expected {"exports": int}, got %r' % (reply,))
    return result["exports"]


def call(peer, target, path, args, answer=None):
    params = [target, path, args] if answer is None else [target, path, args, answer]
    return peer.request("$/call", params)


def root_call(peer, method, args):
    return call(peer, None, [method], args)


def expect_exports(peer, expected, within=2.0):
    """Polls stats until exports is `expected` (releases are notifications: the server may lag)."""
    deadline = time.monotonic() + within
    while True:
        got = exports(peer)
        if got == expected:
            return
        if time.monotonic() >= deadline:
            raise CheckFailed("stats: expected exports %d, still %d after %.0f s" % (expected, got, within))
        time.sleep(0.05)


CHECKS = []


def check(name):
    def register(fn):
        CHECKS.append((name, fn))
        return fn

    return register


class State:
    counter = None  # the first counter's export id N
    progress = []


@check("stats() at the start: exports 0")
def _(c):
    got = exports(c)
    if got != 0:
        raise CheckFailed("expected exports 0, got %d" % got)


@check('makeCounter(10) returns {"$ref": N, "type": "object"}')
def _(c):
    State.counter = expect_ref(root_call(c, "makeCounter", [10]), "object")
    if c.ref_counts.get(State.counter) != 1:
        raise CheckFailed("received $ref %d %r times, expected once" % (State.counter, c.ref_counts.get(State.counter)))


@check('$/call [{"$you": N}, ["increment"], [5]] = 15, again = 20; $/get [{"$you": N}, ["value"]] = 20')
def _(c):
    you = {"$you": State.counter}
    expect_result(call(c, you, ["increment"], [5]), 15)
    expect_result(call(c, you, ["increment"], [5]), 20)
    expect_result(c.request("$/get", [you, ["value"]]), 20)


@check("stats() with one counter: exports 1")
def _(c):
    got = exports(c)
    if got != 1:
        raise CheckFailed("expected exports 1, got %d" % got)


@check('callback: work(3, {"$ref": 1, "type": "function"}) = "done", the server calls progress(1..3, 3) back')
def _(c):
    seen = State.progress = []

    def progress(i, steps):
        seen.append((i, steps))
        return None

    c.exports[1] = progress
    before = len(c.notifications)
    reply = call(c, {"$you": State.counter}, ["work"], [3, {"$ref": 1, "type": "function"}])
    expect_result(reply, "done")
    if seen != [(1, 3), (2, 3), (3, 3)]:
        raise CheckFailed("progress calls seen %r, expected [(1, 3), (2, 3), (3, 3)]" % (seen,))
    bad = [m for m in c.incoming if not (m.get("method") == "$/call" and isinstance(m.get("params"), list) and m["params"][:2] == [{"$you": 1}, []])]
    if bad:
        raise CheckFailed("unexpected calls from the server: %r" % (bad,))
    # The server may release the callback now or later (when its proxy is
    # garbage-collected): wait a little for it, then report. Its releases may
    # also carry ["answer", A, 1] entries for the calls it made to us.
    deadline = time.monotonic() + 0.5
    released = None
    while released is None and time.monotonic() < deadline:
        with c.cond:
            for m in c.notifications[before:]:
                if m.get("method") != "$/release" or not isinstance(m.get("params"), list):
                    continue
                refs = [e for e in m["params"] if isinstance(e, list) and e[:1] == ["ref"]]
                if refs:
                    released = refs
            if released is None:
                c.cond.wait(0.05)
    if released is None:
        return "no $/release of the callback from the server within 0.5 s"
    if ["ref", 1, 1] not in released:
        raise CheckFailed('expected the server to release ["ref", 1, 1], got $/release %r' % (released,))
    return "the server released the callback: $/release %s" % json.dumps(released)


@check('pipelining: makeCounter(100) as answer 1 and {"$answer": 1}.increment(1) = 101 in one write, then released')
def _(c):
    first = c.request_message("$/call", [None, ["makeCounter"], [100], 1])
    second = c.request_message("$/call", [{"$answer": 1}, ["increment"], [1]])
    c.send_many([first, second])
    second_reply = c.wait(second["id"])
    first_reply = c.wait(first["id"])
    counter2 = expect_ref(first_reply, "object")
    expect_result(second_reply, 101)
    if counter2 == State.counter:
        raise CheckFailed("the second counter has the first's export id %d" % counter2)
    c.notify("$/release", [["answer", 1, 1]])
    c.notify("$/release", [["ref", counter2, c.ref_counts.get(counter2, 0)]])
    expect_exports(c, 1)


@check('escaping: echo({"$esc": {"$ref": 5}}) returns {"$esc": {"$ref": 5}}')
def _(c):
    expect_result(root_call(c, "echo", [{"$esc": {"$ref": 5}}]), {"$esc": {"$ref": 5}})
    # Plain values, and a $ key nested in a plain object, travel unchanged / escaped as well.
    plain = {"a": [1, "two", None, True], "b": {"c": 1.5}}
    expect_result(root_call(c, "echo", [plain]), plain)
    nested = {"outer": [{"$esc": {"$you": 7}}]}
    expect_result(root_call(c, "echo", [nested]), nested)


@check("not exposed (-32002): _secret(), constructor(), $/get __proto__")
def _(c):
    expect_error(root_call(c, "_secret", []), NOT_EXPOSED)
    expect_error(root_call(c, "constructor", []), NOT_EXPOSED)
    expect_error(c.request("$/get", [None, ["__proto__"]]), NOT_EXPOSED)


@check("release: after $/release of the first counter, calling it is -32001 and exports is back to 0")
def _(c):
    n = State.counter
    c.notify("$/release", [["ref", n, c.ref_counts.get(n, 0)]])
    expect_error(call(c, {"$you": n}, ["increment"], [1]), UNKNOWN_REFERENCE)
    expect_exports(c, 0)


@check('bad input: $/call with params "nonsense" is -32600 (JSON-RPC: params are structured), with {"target": null} -32602, an unknown $you is -32001, a garbage $/release is ignored')
def _(c):
    expect_error(c.request("$/call", "nonsense"), -32600)
    expect_error(c.request("$/call", {"target": None}), INVALID_PARAMS)
    expect_error(call(c, {"$you": 999999}, ["x"], []), UNKNOWN_REFERENCE)
    c.notify("$/release", "garbage")
    c.notify("$/release", [["ref"], ["bogus", 1, 1], ["ref", 999999, 1], 7])
    expect_exports(c, 0, within=0)


def pushed_items(c, stream, count):
    """Waits for `count` items pushed for `stream` in $/items notifications; returns them in order."""
    deadline = time.monotonic() + TIMEOUT
    items = []
    with c.cond:
        while True:
            for note in [n for n in c.notifications if n.get("method") == "$/items"]:
                c.notifications.remove(note)
                params = note.get("params")
                if not isinstance(params, list) or len(params) != 2 or params[0] != stream or not isinstance(params[1], list):
                    raise CheckFailed("malformed $/items: %r" % (note,))
                items.extend(params[1])
            if len(items) >= count:
                return items
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckFailed("%d of %d pushed items within %.0f s" % (len(items), count, TIMEOUT))
            c.cond.wait(left)


@check('streams pulled: numbers(3) is an iterator; next x4 = 0, 1, 2, then done')
def _(c):
    n = expect_ref(root_call(c, "numbers", [3]), "iterator")
    for i in range(3):
        expect_result(call(c, {"$you": n}, ["next"], []), {"done": False, "value": i})
    reply = call(c, {"$you": n}, ["next"], [])
    if reply.get("result", {}).get("done") is not True:
        raise CheckFailed("expected the end of the stream, got %r" % (reply,))
    c.notify("$/release", [["ref", n, c.ref_counts.get(n, 0)]])
    expect_exports(c, 0)


@check('streams with credit: numbers(10), pull [4] pushes 0..3 then {"sent": 4}; pull [100] pushes 4..9 then done, sent 10')
def _(c):
    n = expect_ref(root_call(c, "numbers", [10]), "iterator")
    expect_result(call(c, {"$you": n}, ["pull"], [4]), {"sent": 4})
    first = pushed_items(c, n, 4)
    if first != [0, 1, 2, 3]:
        raise CheckFailed("expected items [0, 1, 2, 3] for a credit of 4, got %r" % (first,))
    reply = call(c, {"$you": n}, ["pull"], [100])
    rest = pushed_items(c, n, 6)
    if rest != [4, 5, 6, 7, 8, 9]:
        raise CheckFailed("expected items 4..9, got %r" % (rest,))
    result = reply.get("result")
    if not isinstance(result, dict) or result.get("done") is not True or result.get("sent") != 10:
        raise CheckFailed('expected {"done": true, "sent": 10}, got %r' % (reply,))
    expect_error(call(c, {"$you": n}, ["pull"], [0]), INVALID_PARAMS)
    c.notify("$/release", [["ref", n, c.ref_counts.get(n, 0)]])
    expect_exports(c, 0)


@check("the connection still works after everything above")
def _(c):
    expect_result(root_call(c, "echo", ["still here"]), "still here")
    if c.problems:
        raise CheckFailed("malformed message from the server: %s" % c.problems[0])


def main():
    parser = argparse.ArgumentParser(description="JSON-RPC interop client of parley's remote objects")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    try:
        peer = Peer(args.host, args.port)
    except OSError as error:
        print("cannot connect to %s:%d: %s" % (args.host, args.port, error), file=sys.stderr)
        return 2
    try:
        for name, fn in CHECKS:
            try:
                note = fn(peer)
            except CheckFailed as failure:
                print("FAIL %s: %s" % (name, failure), file=sys.stderr, flush=True)
                return 1
            except OSError as error:
                print("FAIL %s: connection error %s" % (name, error), file=sys.stderr, flush=True)
                return 1
            print("ok   %s%s" % (name, " (%s)" % note if note else ""), flush=True)
        print("all %d checks passed (objects)" % len(CHECKS), flush=True)
        return 0
    finally:
        peer.close()


if __name__ == "__main__":
    sys.exit(main())
