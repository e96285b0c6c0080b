"""Python's RPyC 5.x client against parley's serveRpyc, for tests/rpyc_server_test.ts.

usage: rpyc_client.py HOST PORT SCENARIO
Connects with rpyc.connect(HOST, PORT), runs SCENARIO against conn.root (the
root of tests/rpyc_server_test.ts) and prints one JSON object: what Python
saw, for the TypeScript test to assert.
"""
import gc
import json
import math
import sys

import rpyc

host, port, scenario = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = rpyc.connect(host, port)
root = conn.root
out = {}


def raised(fn):
    """The exception type name and message fn raises, or None."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - reporting every kind is the point
        return [type(e).__name__, str(e)]
    return None


def same(a, b):
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is complex:
        return same(a.real, b.real) and same(a.imag, b.imag)
    if type(a) is tuple:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


if scenario == "values":
    values = [None, True, False, 0, -48, 2**64, -(2**200), 1.5, -0.0, float("nan"), float("inf"),
              float("-inf"), 2.0, "", "héllo ✓ 𝄞", b"", b"\x00\xff", b"z" * 5000, (), (1, (2, (3, ("deep",)))),
              frozenset([1]), slice(1, None, -1), complex(1.5, -0.0), Ellipsis, NotImplemented]
    out["same"] = [same(root.echo(v), v) for v in values]
    out["ts_types"] = [root.ts_type(v) for v in values]
    out["all_at_once"] = same(root.echo(tuple(values)), tuple(values))
    out["sum"] = root.add(2**70, 1) == 2**70 + 1
elif scenario == "kwargs":
    out["kw"] = root.describe(1, "a", sep=",", end=2**65)
    out["none"] = root.describe(1)
elif scenario == "exceptions":
    out["range"] = raised(lambda: root.fail("RangeError", "too far"))
    out["type"] = raised(lambda: root.fail("TypeError", "wrong type"))
    out["custom"] = raised(lambda: root.fail("MyError", "mine"))
    out["key"] = raised(lambda: root.fail("KeyError", "k"))
    out["async"] = raised(lambda: root.fail_later("later"))
    out["not_callable"] = raised(lambda: root.counter()())
    out["after"] = root.add(1, 2)
elif scenario == "callbacks":
    out["sum"] = root.call_back(lambda i: i * 10, 5)
    # Nested: the callback calls the TypeScript side again while its call waits.
    out["nested"] = root.call_back(lambda i: root.add(i, 100), 3)
    def boom(_i):
        raise ZeroDivisionError("py side")
    out["py_raises"] = root.catch_back(boom)
    out["kw_callback"] = root.call_kw(lambda a, b=0: a - b)
    out["echo_same"] = root.echo(boom) is boom
elif scenario == "exposure":
    names = ["_private", "constructor", "__proto__", "toString", "hidden", "prototype", "valueOf",
             "hasOwnProperty", "exposed__private", "__class__", "__dict__", "secret"]
    out["root"] = {n: (raised(lambda n=n: getattr(root, n)) or ["ok"])[0] for n in names}
    fn_names = ["call", "apply", "bind", "name", "length", "constructor", "__proto__", "caller"]
    out["function"] = {n: (raised(lambda n=n: getattr(root.add, n)) or ["ok"])[0] for n in fn_names}
    c = root.counter()
    out["counter"] = {n: (raised(lambda n=n: getattr(c, n)) or ["ok"])[0]
                      for n in ["n", "_n", "inc", "exposed_inc", "value", "secret", "constructor"]}
    out["inc"] = [c.inc(), c.exposed_inc(), c.value]
    out["dir_root"] = sorted(dir(root))
    out["dir_counter"] = sorted(dir(c))
    out["setattr"] = (raised(lambda: setattr(c, "value", 5)) or ["ok"])[0]
    out["callattr_private"] = (raised(lambda: conn.sync_request(rpyc.core.consts.HANDLE_CALLATTR, c, "_n", (), ())) or ["ok"])[0]
elif scenario == "sugar":
    m = root.map()
    out["map"] = [len(m), m["a"], "a" in m, "zz" in m, list(m), raised(lambda: m["zz"])[0]]
    g = root.numbers(4)
    out["iter"] = list(g)
    c = root.counter()
    out["print"] = [str(c), repr(c).startswith("<parley Counter object"), str(root.add).startswith("<parley function")]
    out["eq"] = [c == c, c != c, c == root.counter(), root.echo(c) is c]
    out["hash"] = hash(c) == hash(c)
    out["isinstance"] = [isinstance(c, int), isinstance(root.add, object)]
    out["len_plain"] = raised(lambda: len(c))[0]
    out["lt"] = raised(lambda: c < c)[0]
    out["items"] = [c["value"], "inc" in c, "n" in c]
    out["buffiter"] = list(rpyc.buffiter(root.numbers(5), 2))
elif scenario == "lifetimes":
    base = root.live()
    held = [root.counter() for _ in range(5)] + [root.map(), root.add]
    out["held"] = root.live() - base
    del held
    gc.collect()
    out["released"] = root.live() - base
    out["base"] = base
elif scenario == "limit":
    held = []
    out["error"] = raised(lambda: [held.append(root.counter()) for _ in range(100)])
    out["held"] = len(held)
    del held
    gc.collect()
    out["after"] = root.add(1, 1)
print(json.dumps(out), flush=True)
conn.close()
