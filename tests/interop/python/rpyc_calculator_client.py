#!/usr/bin/env python3
"""Python's own RPyC client against the interop Calculator (`--codec rpyc`).

Usage: /usr/bin/python3 rpyc_calculator_client.py HOST PORT

Exercises the "RPyC" section of shared/interop/README.md with Debian's
python3-rpyc (5.x), the way a Python user would: `rpyc.connect(host, port)`
and `conn.root.add(1, 2)`. It checks both configurations the contract names
(`allow_public_attrs` on, and RPyC's default with `exposed_` attributes),
every value brine carries through `echo`, exact sums, errors, a Python
callback called back by the server, and that the server gives back every
reference it was lent (the client's table of lent objects empties).

Prints one line per check and exits 1 on the first failure (2 on a usage,
import or connection error).
"""

import gc
import math
import sys
import time

try:
    import rpyc
except ImportError as error:  # pragma: no cover - depends on the machine
    print("cannot import rpyc (%s): run with /usr/bin/python3 and python3-rpyc" % error,
          file=sys.stderr)
    sys.exit(2)

I32_MAX = 2**31 - 1
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


class CheckFailed(Exception):
    pass


def check(name, condition, detail=""):
    if not condition:
        raise CheckFailed("%s: %s" % (name, detail))
    print("ok", name)


def same(a, b):
    """Same type and value, recursively; floats bit-exact (nan, -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, slice):
        return same(a.start, b.start) and same(a.stop, b.stop) and same(a.step, b.step)
    return a == b


def raises(name, call, why):
    try:
        result = call()
    except Exception as error:  # the server's exception, as RPyC raises it
        check(name, why in str(error), "message %r lacks %r" % (str(error), why))
        return
    raise CheckFailed("%s: returned %r instead of raising" % (name, result))


class PublicWork:
    def __init__(self, num1, num2, op):
        self.num1, self.num2, self.op = num1, num2, op


class ExposedWork:
    def __init__(self, num1, num2, op):
        self.exposed_num1, self.exposed_num2, self.exposed_op = num1, num2, op


VALUES = [
    None, True, False, 0, 1, -1, I32_MAX, 2**53 + 1, -(2**64), 2**200, 1.5, 2.0, -0.0,
    float("nan"), float("inf"), float("-inf"), "", "héllo ☃ 😀", b"", b"\x00\xff\x80",
    (), (1, (2.5, ("x", (b"y", None)))), frozenset({1, 2, 3}), frozenset(),
    slice(1, None, -1), complex(1.5, -2.0), Ellipsis, NotImplemented,
]


def lent(conn):
    gc.collect()
    return len(conn._local_objects._dict)


def run(host, port, config, work):
    conn = rpyc.connect(host, port, config=config)
    root = conn.root
    check("add", root.add(1, 2) == 3)
    check("add negative", root.add(-5, 2) == -3)
    raises("add overflow", lambda: root.add(I32_MAX, 1), "overflow")
    for bad in (1.5, "1", 2**31):
        try:
            root.add(bad, 1)
        except Exception:
            print("ok add refuses %r" % (bad,))
        else:
            raise CheckFailed("add(%r, 1) did not raise" % (bad,))

    check("calculate add", root.calculate(1, work(7, 5, 1)) == 12)
    check("calculate subtract", root.calculate(1, work(7, 5, 2)) == 2)
    check("calculate multiply", root.calculate(1, work(7, 5, 3)) == 35)
    check("calculate divide truncates", root.calculate(1, work(-7, 2, 4)) == -3)
    raises("calculate divide by 0", lambda: root.calculate(1, work(1, 0, 4)), "Cannot divide by 0")
    raises("calculate unknown op", lambda: root.calculate(1, work(1, 2, 9)), "Invalid operation")
    raises("calculate overflow", lambda: root.calculate(1, work(65536, 65536, 3)), "overflow")

    for value in VALUES:
        back = root.echo(value)
        check("echo %r" % (value,), same(value, back), "came back as %r" % (back,))
    mine = object()
    check("echo an object gives the same object", root.echo(mine) is mine)
    listed = [1, 2]
    check("echo a list gives the same list", root.echo(listed) is listed)

    check("sum tuple", root.sum((1, 2, 3)) == 6)
    check("sum list", root.sum([1, 2, 3, 4]) == 10)
    check("sum empty", root.sum(()) == 0)
    check("sum exact", root.sum([I64_MAX, 1, -1]) == I64_MAX)
    check("sum big operands", root.sum((2**70, -(2**70), 5)) == 5)
    raises("sum overflow", lambda: root.sum([I64_MAX, 1]), "overflow")
    raises("sum underflow", lambda: root.sum((I64_MIN, -1)), "overflow")

    seen = []
    check("progress returns n", root.progress(5, seen.append) == 5)
    check("progress called back in order", seen == [1, 2, 3, 4, 5], repr(seen))
    check("progress 0", root.progress(0, seen.append) == 0 and len(seen) == 5)

    # The server gives back every reference it was lent (DEL); those arrive
    # while this side serves the connection.
    deadline = time.monotonic() + 10
    while lent(conn) and time.monotonic() < deadline:
        conn.poll_all(0.05)
    check("every lent object given back", lent(conn) == 0, repr(conn._local_objects))
    conn.close()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    host, port = sys.argv[1], int(sys.argv[2])
    try:
        run(host, port, {"allow_public_attrs": True}, PublicWork)
        run(host, port, {}, ExposedWork)
    except CheckFailed as failure:
        print("FAILED", failure, file=sys.stderr)
        sys.exit(1)
    except (ConnectionError, OSError) as error:
        print("cannot reach the calculator:", error, file=sys.stderr)
        sys.exit(2)
    print("all checks passed")


if __name__ == "__main__":
    main()
