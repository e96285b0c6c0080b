#!/usr/bin/env python3
"""A small JSON-RPC 2.0 server over newline-delimited TCP, standard library only.

Usage: python3 json_rpc_server.py [--port P]

Binds 127.0.0.1 (port 0 by default), prints `listening tcp://127.0.0.1:PORT`
and serves until SIGTERM or SIGINT. Every request is handled in its own thread
and replies are written under a lock, so slow calls answer out of order.

Methods:
  add(a, b)          a + b
  echo(x)            x
  concat(**named)    the named string params joined in key order
  fail()             error {code: 42, message: "deliberate", data: {"detail": "x"}}
  slow(ms)           sleeps ms milliseconds, then answers ms
  notify_me(...)     meant as a notification: records its params
  notifications()    the params of every notify_me received so far, in order
"""

import argparse
import json
import signal
import socketserver
import sys
import threading
import time


class RpcError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


NOTIFICATIONS = []
NOTIFICATIONS_LOCK = threading.Lock()


def positional(params, count):
    if params is None:
        params = []
    if not isinstance(params, list) or len(params) != count:
        raise RpcError(-32602, "Invalid params", {"expected": "%d positional params" % count})
    return params


def m_add(params):
    a, b = positional(params, 2)
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
        raise RpcError(-32602, "Invalid params", {"expected": "numbers"})
    return a + b


def m_echo(params):
    (x,) = positional(params, 1)
    return x


def m_concat(params):
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise RpcError(-32602, "Invalid params", {"expected": "named string params"})
    return "".join(params[key] for key in sorted(params))


def m_fail(params):
    positional(params, 0)
    raise RpcError(42, "deliberate", {"detail": "x"})


def m_slow(params):
    (ms,) = positional(params, 1)
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or not 0 <= ms <= 10000:
        raise RpcError(-32602, "Invalid params", {"expected": "0..10000 ms"})
    time.sleep(ms / 1000)
    return ms


def m_notify_me(params):
    with NOTIFICATIONS_LOCK:
        NOTIFICATIONS.append(params)
    return None


def m_notifications(params):
    positional(params, 0)
    with NOTIFICATIONS_LOCK:
        return list(NOTIFICATIONS)


METHODS = {
    "add": m_add,
    "echo": m_echo,
    "concat": m_concat,
    "fail": m_fail,
    "slow": m_slow,
    "notify_me": m_notify_me,
    "notifications": m_notifications,
}


def error_reply(id, code, message, data=None):
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": id, "error": error}


def dispatch(message):
    """Answers one message; None for a notification."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
        id = message.get("id") if isinstance(message, dict) else None
        return error_reply(id if isinstance(id, (str, int)) else None, -32600, "Invalid Request")
    is_notification = "id" not in message
    id = message.get("id")
    params = message.get("params")
    method = METHODS.get(message["method"])
    try:
        if method is None:
            raise RpcError(-32601, "Method not found", {"method": message["method"]})
        result = method(params)
        reply = {"jsonrpc": "2.0", "id": id, "result": result}
    except RpcError as error:
        reply = error_reply(id, error.code, error.message, error.data)
    except Exception as error:  # noqa: BLE001 - a server must answer
        reply = error_reply(id, -32603, "Internal error", {"detail": str(error)})
    return None if is_notification else reply


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.write_lock = threading.Lock()

    def send(self, reply):
        data = json.dumps(reply, separators=(",", ":")).encode("utf-8") + b"\n"
        with self.write_lock:
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:
                pass

    def answer(self, message):
        reply = dispatch(message)
        if reply is not None:
            self.send(reply)

    def answer_batch(self, messages):
        replies = [r for r in (dispatch(m) for m in messages) if r is not None]
        if replies:
            self.send(replies)

    def handle(self):
        workers = []
        for line in self.rfile:
            if not line.strip():
                continue
            try:
                message = json.loads(line.decode("utf-8"))
            except ValueError:
                self.send(error_reply(None, -32700, "Parse error"))
                continue
            if isinstance(message, list):
                if not message:
                    self.send(error_reply(None, -32600, "Invalid Request"))
                    continue
                target, args = self.answer_batch, (message,)
            elif isinstance(message, dict) and "id" not in message:
                # Notifications are handled in order, before the next line is
                # read, so that a later call sees their effect.
                dispatch(message)
                continue
            else:
                target, args = self.answer, (message,)
            worker = threading.Thread(target=target, args=args, daemon=True)
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join(timeout=15)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description="A small JSON-RPC 2.0 test server")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
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
    print("json_rpc_server: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
