"""A Python RPyC 5.x ThreadedServer for tests/rpyc_client_test.ts.

usage: rpyc_server.py service|classic [SOCKET_PATH]
Binds 127.0.0.1 port 0 and prints "listening tcp://127.0.0.1:PORT", or
binds the Unix socket SOCKET_PATH and prints "listening unix://SOCKET_PATH".
"""
import sys
import time
import weakref

import rpyc
from rpyc.utils.server import ThreadedServer
from rpyc.core.service import SlaveService


class Tracked:
    """An object whose death Python reports (its weakref callback)."""


alive = set()


def track():
    obj = Tracked()
    key = id(obj)
    alive.add(key)
    obj.ref = weakref.ref(obj, lambda _r: alive.discard(key))
    return obj


class TestService(rpyc.Service):
    _tracked = None

    def exposed_add(self, a, b):
        return a + b

    def exposed_call_back(self, cb, n):
        """Calls cb(i) for i in range(n), each a round trip to the client; their sum."""
        total = 0
        for i in range(n):
            total += cb(i)
        return total

    def exposed_echo(self, value):
        return value

    def exposed_type_names(self, value):
        """The Python type of value, and of each item when it is a tuple (nested)."""
        def names(v):
            if type(v) is tuple:
                return tuple(names(x) for x in v)
            return type(v).__name__
        return names(value)

    def exposed_kwargs(self, a, b=2, **rest):
        return (a, b, tuple(sorted(rest.items())))

    def exposed_fail(self, message):
        raise KeyError(message)

    def exposed_make_list(self):
        return [10, 20, 30]

    def exposed_tracked(self):
        """The same Tracked object each call, until it dies."""
        obj = self._tracked() if self._tracked is not None else None
        if obj is None:
            obj = track()
            self._tracked = weakref.ref(obj)
        return obj

    def exposed_alive(self):
        return len(alive)

    def exposed_sleep(self, seconds):
        time.sleep(seconds)
        return seconds

    def exposed_pair(self):
        """A tuple holding a value and a reference."""
        return (1, [1, 2])

    def exposed_is_list(self, obj):
        """Whether a netref passed back arrives as the very object."""
        return type(obj) is list and obj == [10, 20, 30]


mode = sys.argv[1] if len(sys.argv) > 1 else "service"
service = SlaveService if mode == "classic" else TestService
config = {"allow_public_attrs": True}
if len(sys.argv) > 2:
    server = ThreadedServer(service, socket_path=sys.argv[2], protocol_config=config)
    url = f"unix://{sys.argv[2]}"
else:
    server = ThreadedServer(service, hostname="127.0.0.1", port=0, protocol_config=config)
server._listen()  # listen before saying so; start() sees it is active
if len(sys.argv) <= 2:
    url = f"tcp://127.0.0.1:{server.port}"
print(f"listening {url}", flush=True)
server.start()
