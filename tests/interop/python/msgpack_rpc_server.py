#!/usr/bin/env python3
"""A small msgpack-rpc server over TCP, on python3-msgpack and the standard library.

Usage: /usr/bin/python3 msgpack_rpc_server.py [--port P]

Binds 127.0.0.1 (port 0 by default), prints `listening tcp://127.0.0.1:PORT`
and serves until SIGTERM or SIGINT. The stream is plain msgpack-rpc: msgpack
values one after the other, read with `msgpack.Unpacker`. Every request is
handled in its own thread and replies are written under a lock, so slow calls
answer out of order; notifications are handled in order, before the next
message is read. A stream that is not msgpack closes the connection.

Methods:
  add(a, b)          a + b
  echo(x)            x, as msgpack decoded it (a timestamp stays a msgpack.Timestamp)
  types(x...)        the Python type name of each argument
  fail()             error {code: 42, message: "deliberate", data: {"detail": "x", "n": [1, 2]}}
  fail_legacy()      error as a bare string "legacy failure" (older servers do this)
  slow(ms)           sleeps ms milliseconds, then answers ms
  log(x...)          meant as a notification: records its params
  logged()           the params of every log received so far on any connection, in order
  announce(text)     sends the notification ["announced", [text]] to the caller, then answers true
"""

import argparse
import signal
import socketserver
import sys
import threading
import time

import msgpack

REQUEST = 0
RESPONSE = 1
NOTIFICATION = 2


class RpcError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class LegacyError(Exception):
    """An error that goes on the wire as a bare string."""


LOG = []
LOG_LOCK = threading.Lock()


def positional(params, count):
    if not isinstance(params, list) or len(params) != count:
        raise RpcError(-32602, "Invalid params", {"expected": "%d positional params" % count})
    return params


def m_add(handler, params):
    a, b = positional(params, 2)
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
        raise RpcError(-32602, "Invalid params", {"expected": "numbers"})
    return a + b


def m_echo(handler, params):
    (x,) = positional(params, 1)
    return x


def m_types(handler, params):
    return [type(x).__name__ for x in params]


def m_fail(handler, params):
    positional(params, 0)
    raise RpcError(42, "deliberate", {"detail": "x", "n": [1, 2]})


def m_fail_legacy(handler, params):
    raise LegacyError("legacy failure")


def m_slow(handler, params):
    (ms,) = positional(params, 1)
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or not 0 <= ms <= 10000:
        raise RpcError(-32602, "Invalid params", {"expected": "0..10000 ms"})
    time.sleep(ms / 1000)
    return ms


def m_log(handler, params):
    with LOG_LOCK:
        LOG.append(params)
    return None


def m_logged(handler, params):
    positional(params, 0)
    with LOG_LOCK:
        return list(LOG)


def m_announce(handler, params):
    (text,) = positional(params, 1)
    handler.send([NOTIFICATION, "announced", [text]])
    return True


METHODS = {
    "add": m_add,
    "echo": m_echo,
    "types": m_types,
    "fail": m_fail,
    "fail_legacy": m_fail_legacy,
    "slow": m_slow,
    "log": m_log,
    "logged": m_logged,
    "announce": m_announce,
}


def error_map(code, message, data=None):
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return error


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.write_lock = threading.Lock()

    def send(self, message):
        data = msgpack.packb(message, use_bin_type=True)
        with self.write_lock:
            try:
                self.request.sendall(data)
            except OSError:
                pass

    def call(self, method_name, params):
        """Runs a method; returns (error, result)."""
        method = METHODS.get(method_name)
        try:
            if method is None:
                raise RpcError(-32601, "Method not found", {"method": method_name})
            return None, method(self, params)
        except RpcError as error:
            return error_map(error.code, error.message, error.data), None
        except LegacyError as error:
            return str(error), None
        except Exception as error:  # noqa: BLE001 - a server must answer
            return error_map(-32603, "Internal error", {"detail": str(error)}), None

    def answer(self, msgid, method_name, params):
        error, result = self.call(method_name, params)
        self.send([RESPONSE, msgid, error, result])

    def handle(self):
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=64 * 2**20)
        workers = []
        try:
            while True:
                try:
                    chunk = self.request.recv(1 << 16)
                except OSError:
                    break
                if not chunk:
                    break
                unpacker.feed(chunk)
                for message in unpacker:
                    if not isinstance(message, list) or not message:
                        self.send([RESPONSE, None, error_map(-32600, "Invalid request"), None])
                        continue
                    kind = message[0]
                    if kind == REQUEST and len(message) == 4 and isinstance(message[2], str):
                        _, msgid, method_name, params = message
                        worker = threading.Thread(
                            target=self.answer, args=(msgid, method_name, params), daemon=True
                        )
                        worker.start()
                        workers.append(worker)
                    elif kind == NOTIFICATION and len(message) == 3 and isinstance(message[1], str):
                        self.call(message[1], message[2])
                    elif kind == RESPONSE:
                        pass  # this server makes no calls
                    else:
                        msgid = message[1] if kind == REQUEST and len(message) > 1 else None
                        self.send([RESPONSE, msgid, error_map(-32600, "Invalid request"), None])
        except (ValueError, msgpack.UnpackException) as error:
            # A msgpack stream cannot be resynchronised: drop the connection.
            print("msgpack_rpc_server: bad stream, closing: %s" % error, file=sys.stderr, flush=True)
        for worker in workers:
            worker.join(timeout=15)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description="A small msgpack-rpc test server")
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
    print("msgpack_rpc_server: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
