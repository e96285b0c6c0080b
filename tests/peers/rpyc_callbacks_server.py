"""A Python RPyC 5.x ThreadedServer that calls its clients back, for
tests/rpyc_callbacks_test.ts. Binds 127.0.0.1 port 0 and prints
"listening tcp://127.0.0.1:PORT".
"""
import gc
import weakref

import rpyc
from rpyc.utils.server import ThreadedServer


class Tracked:
    """An object whose death Python counts."""


alive = set()


class CallbackService(rpyc.Service):
    def __init__(self):
        self.held = None

    def exposed_add(self, a, b):
        return a + b

    def exposed_call_back(self, fn, n):
        """sum(fn(i) for i in range(n)), each fn(i) a call to the client."""
        return sum(fn(i) for i in range(n))

    def exposed_call_kw(self, fn):
        return fn(1, b=2)

    def exposed_read(self, obj, name):
        return getattr(obj, name)

    def exposed_catch(self, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - the type is the answer
            return (type(e).__name__, str(e).splitlines()[0])
        return None

    def exposed_hand_tracked(self, fn):
        """Calls fn with a fresh Tracked object, which dies when the client lets go."""
        obj = Tracked()
        key = id(obj)
        alive.add(key)
        obj.ref = weakref.ref(obj, lambda _r: alive.discard(key))
        fn(obj)

    def exposed_alive(self):
        gc.collect()
        return len(alive)

    def exposed_hold(self, obj):
        self.held = obj

    def exposed_drop(self):
        self.held = None
        gc.collect()


server = ThreadedServer(CallbackService, hostname="127.0.0.1", port=0,
                        protocol_config={"allow_public_attrs": True})
server._listen()
print(f"listening tcp://127.0.0.1:{server.port}", flush=True)
server.start()
