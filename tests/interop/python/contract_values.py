#!/usr/bin/env python3
"""Property checks of exact values across languages: random values of every
type of the interop contract (shared/interop/README.md), round-tripped
through a running calculator, compared with their Python types.

Usage: /usr/bin/python3 contract_values.py CODEC URL SEED COUNT

CODEC is jsonrpc (TCP, newline framing), xmlrpc (HTTP), msgpack (TCP),
protobuf (TCP, length prefix) or thrift (TCP, framed binary); URL is what the
calculator printed after `listening`. For each method (add, calculate, sum,
echo, echoBinary, echoShape) it draws COUNT values with random.Random(SEED),
a few fixed edge cases first, and computes what the contract says comes
back: the exact result, or InvalidOperation(code, why). A double must come
back as a `float` with the same bits (-0.0 is not 0.0; any NaN matches a
NaN), an integer as an `int` (never a bool or a float), bytes as `bytes`
(JSON-RPC: their standard padded base64 `str`), maps with the same keys,
lists with the same length.

Only what the codec carries is sent: JSON-RPC's i64 stay within ±(2^53-1),
XML-RPC's strings within XML 1.0's characters, and inf/nan only to msgpack,
protobuf and Thrift (JSON and XML-RPC have no representation for them).

Prints one line per failing value (method, value, what came back and its
type), then a summary line; exits 1 on any failure, 2 when it cannot start.
"""

import math
import random
import struct
import sys
from _contract_clients import CLIENTS, I32_MAX, I32_MIN, Broken, Raised, Result, connect

PREVIEW = 160  # characters of a value shown in a failure line


class Draw:
    """Random values of the contract's types, within what one codec carries."""

    def __init__(self, rng, client):
        self.rng = rng
        self.client = client
        self.lo, self.hi = client.i64

    def i32(self):
        r = self.rng
        pick = r.randrange(3)
        if pick == 0:
            return r.randint(-100, 100)
        if pick == 1:  # near the edges, where sums and products overflow
            n = r.choice([I32_MIN, I32_MAX, 0, 65536, -46341, 46341]) + r.randint(-1000, 1000)
            return min(max(n, I32_MIN), I32_MAX)
        return r.randint(I32_MIN, I32_MAX)

    def i64(self):
        r = self.rng
        pick = r.randrange(5)
        if pick == 0:
            n = r.randint(-1000, 1000)
        elif pick == 1:  # around the edges of i32, of doubles' exact integers, of the codec
            n = r.choice([2**31, -(2**31) - 1, 2**32, 2**53, -(2**53), self.lo, self.hi]) + r.randint(-3, 3)
        elif pick == 2:  # every magnitude
            n = r.getrandbits(r.randint(1, 63)) * r.choice([1, -1])
        else:
            n = r.randint(self.lo, self.hi)
        return min(max(n, self.lo), self.hi)

    def char(self):
        r = self.rng
        while True:
            low, high = r.choice([
                (0x20, 0x7E), (0x20, 0x7E),  # ASCII
                (0x00, 0x1F),  # C0 controls, NUL and CR included
                (0x80, 0x7FF),  # two UTF-8 bytes
                (0x800, 0xD7FF), (0xE000, 0xFFFF),  # three, around the surrogates (which are left out)
                (0x10000, 0x10FFFF),  # astral planes: four bytes, a surrogate pair in UTF-16
            ])
            c = chr(r.randint(low, high))
            if self.client.text_ok(c):
                return c

    def text(self, longest=24):
        return "".join(self.char() for _ in range(self.rng.randint(0, longest)))

    def bytes(self):
        return self.rng.randbytes(self.rng.choice([0, 1, 2, 3, self.rng.randint(0, 300)]))

    def double(self):
        r = self.rng
        while True:
            pick = r.randrange(6)
            if pick == 0:  # whole: travels as a double all the same
                x = float(r.randint(-10**6, 10**6))
            elif pick == 1:
                x = float(r.randint(-(2**62), 2**62))
            elif pick == 2:
                x = r.choice(EDGE_DOUBLES + (SPECIAL_DOUBLES if self.client.specials else []))
            elif pick == 3:
                x = r.uniform(-1e6, 1e6)
            elif pick == 4:  # subnormal
                x = math.ldexp(r.random(), -1022 - r.randrange(52)) * r.choice([1, -1])
            else:  # any bit pattern
                x = struct.unpack("<d", r.randbytes(8))[0]
            if self.client.specials or math.isfinite(x):
                return x

    def shape(self):
        r = self.rng
        return {
            "name": self.text(),
            "coords": [self.double() for _ in range(r.randint(0, 8))],
            "tags": {self.text(8): self.i64() for _ in range(r.randint(0, 5))},
            "blob": self.bytes(),
            "flag": r.random() < 0.5,
        }

    def work(self):
        r = self.rng
        op = r.choice([1, 2, 3, 4] * 5 + [r.choice([0, 5, -1, 9, I32_MIN, I32_MAX])])
        num2 = 0 if op == 4 and r.random() < 0.1 else self.i32()
        w = {"num1": self.i32(), "num2": num2, "op": op}
        pick = r.randrange(3)  # absent, null (accepted as absent), or text
        if pick:
            w["comment"] = None if pick == 1 else self.text()
        return w


EDGE_DOUBLES = [2.0, 0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300, 5e-324, -5e-324, 2.0**53, 2.0**63, 1e21,
                1.7976931348623157e308, 2.2250738585072014e-308, 0.1]
SPECIAL_DOUBLES = [math.inf, -math.inf, math.nan]


INVALID_OPERATION = 1


def invalid_operation(what_op, why):
    return ("raise", what_op, why)


def expected_sum(values, lo, hi):
    total = sum(values)
    return total if lo <= total <= hi else invalid_operation(1, "overflow")


def expected_calculate(w):
    a, b, op = w["num1"], w["num2"], w["op"]
    if op == 1:
        r = a + b
    elif op == 2:
        r = a - b
    elif op == 3:
        r = a * b
    elif op == 4:
        if b == 0:
            return invalid_operation(4, "Cannot divide by 0")
        q = abs(a) // abs(b)  # truncated toward zero
        r = q if (a < 0) == (b < 0) else -q
    else:
        return invalid_operation(op, "Invalid operation")
    return r if I32_MIN <= r <= I32_MAX else invalid_operation(op, "overflow")


def cases(draw, count):
    """(method, args, expected) for every method: fixed edge cases first, then random ones."""
    lo, hi = draw.lo, draw.hi
    fixed_pairs = [(1, 2), (I32_MAX, 1), (I32_MIN, -1), (I32_MAX, I32_MIN), (I32_MAX, 0), (-1, I32_MIN)]
    for a, b in (fixed_pairs + [(draw.i32(), draw.i32()) for _ in range(count)])[:count]:
        s = a + b
        yield "add", (a, b), s if I32_MIN <= s <= I32_MAX else invalid_operation(1, "overflow")
    fixed_work = [{"num1": I32_MIN, "num2": -1, "op": 4}, {"num1": 65536, "num2": 65536, "op": 3},
                  {"num1": -7, "num2": 2, "op": 4}, {"num1": 1, "num2": 0, "op": 4},
                  {"num1": 1, "num2": 2, "op": 0}]
    for w in (fixed_work + [draw.work() for _ in range(count)])[:count]:
        yield "calculate", (draw.i32(), w), expected_calculate(w)
    fixed_lists = [[], [hi, 1, -1], [hi], [lo], [hi, 1], [lo, -1], [2**31, 2**31], [1, 2, 3, -10]]
    if hi > 2**53:
        fixed_lists += [[2**53, 1], [-(2**53), -3], [2**62, 2**62 - 1]]
    for values in (fixed_lists + [[draw.i64() for _ in range(draw.rng.randint(0, 6))]
                                  for _ in range(count)])[:count]:
        yield "sum", (values,), expected_sum(values, lo, hi)
    fixed_texts = ["", "\x00", "a\x00b", "\U0001F600", "\U0010FFFF", "\r\n\t", "<&>]]>\"'\\", "\u2028\ufffd",
                   "\ufeff", "\ufeffa leading BOM", "\x7f\x80\u07ff\u0800\ud7ff\ue000\uffff\U00010000"]
    fixed_texts = ["".join(c for c in t if draw.client.text_ok(c)) for t in fixed_texts]
    for text in (fixed_texts + [draw.text(64) for _ in range(count)])[:count]:
        yield "echo", (text,), text
    fixed_bytes = [b"", bytes(range(256)), b"\x00", b"\xff\xfe\xfd"]
    for data in (fixed_bytes + [draw.bytes() for _ in range(count)])[:count]:
        yield "echoBinary", (data,), data
    # One problem per shape where possible, so that one refusal hides nothing else.
    fixed_shapes = [
        {"name": "whole", "coords": [2.0, 0.0, -0.0, 3.0], "tags": {"one": 1}, "blob": b"\x00", "flag": True},
        {"name": "edges", "coords": EDGE_DOUBLES, "tags": {"lo": lo, "hi": hi, "": 0}, "blob": bytes(range(256)),
         "flag": True},
        {"name": "", "coords": [], "tags": {}, "blob": b"", "flag": False},
        {"name": "keys", "coords": [0.5], "tags": {"__proto__": 1, "constructor": 2, "toString": 3, "0": 4},
         "blob": b"", "flag": True},
        {"name": "\ufeffBOM", "coords": [0.5], "tags": {"\ufeff": 1}, "blob": b"", "flag": True},
    ] + [{"name": "special", "coords": [x], "tags": {}, "blob": b"", "flag": False}
         for x in (SPECIAL_DOUBLES if draw.client.specials else [])]
    for s in (fixed_shapes + [draw.shape() for _ in range(count)])[:count]:
        yield "echoShape", (s,), s
    yield "ping", (), None


def type_name(x):
    return type(x).__name__


def mismatches(expected, got, path=""):
    """Where `got` differs from `expected` in value or exact type: a list of texts."""
    here = path or "result"
    if type(got) is not type(expected):
        return ["%s: sent %s (%s), got %s (%s)" % (here, short(expected), type_name(expected),
                                                   short(got), type_name(got))]
    if isinstance(expected, float):
        same = (math.isnan(got) if math.isnan(expected)
                else got == expected and math.copysign(1.0, got) == math.copysign(1.0, expected))
        return [] if same else ["%s: sent %r, got %r" % (here, expected, got)]
    if isinstance(expected, list):
        if len(got) != len(expected):
            return ["%s: %d items sent, %d came back: %s" % (here, len(expected), len(got), short(got))]
        return [m for i, (e, g) in enumerate(zip(expected, got)) for m in mismatches(e, g, "%s[%d]" % (path, i))]
    if isinstance(expected, dict):
        if set(got) != set(expected):
            return ["%s: keys %s sent, %s came back" % (here, short(sorted(expected)), short(sorted(got)))]
        return [m for k in expected for m in mismatches(expected[k], got[k], "%s[%r]" % (path, k))]
    return [] if got == expected else ["%s: sent %s, got %s" % (here, short(expected), short(got))]


def error_mismatches(client, what_op, why, got):
    """InvalidOperation is code 1 in every codec; the op travels as whatOp."""
    problems = []
    if type(got.code) is not int or got.code != INVALID_OPERATION:
        problems.append("code %r (%s), expected %d" % (got.code, type_name(got.code), INVALID_OPERATION))
    if not isinstance(got.message, str) or (got.message != why if client.exact_message else why not in got.message):
        problems.append("message %r, expected %s%r" % (got.message, "" if client.exact_message else "one with ", why))
    if client.detail:
        problems += ["detail " + m for m in mismatches({"whatOp": what_op, "why": why}, got.detail)]
    return problems


def check(client, method, args, expected):
    """What is wrong with the outcome of one call, or []."""
    outcome = client.call(method, args)
    if isinstance(expected, tuple) and expected[:1] == ("raise",):
        _, code, why = expected
        if isinstance(outcome, Result):
            return ["expected InvalidOperation(%d, %r), got the result %s (%s)" % (
                code, why, short(outcome.value), type_name(outcome.value))]
        return ["InvalidOperation(%d, %r): %s" % (code, why, p) for p in error_mismatches(client, code, why, outcome)]
    if isinstance(outcome, Raised):
        return ["expected a result, got the error %r %r (detail %s)" % (outcome.code, outcome.message,
                                                                         short(outcome.detail))]
    return mismatches(client.wire(expected), outcome.value)


def short(value, limit=PREVIEW):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...(%d chars)" % len(text)


def main(argv):
    if len(argv) != 5:
        print(next(line for line in __doc__.splitlines() if line.startswith("Usage:")), file=sys.stderr)
        return 2
    codec, url, seed, count = argv[1], argv[2], int(argv[3]), int(argv[4])
    if codec not in CLIENTS:
        print("unknown codec %r: one of %s" % (codec, ", ".join(CLIENTS)), file=sys.stderr)
        return 2
    try:
        client = connect(codec, url)
    except OSError as error:
        print("cannot connect a %s client to %s: %s" % (codec, url, error), file=sys.stderr)
        return 2
    tally = {}  # method: [checked, failed]
    for method, args, expected in cases(Draw(random.Random(seed), client), count):
        counts = tally.setdefault(method, [0, 0])
        counts[0] += 1
        try:
            problems = check(client, method, args, expected)
        except Broken as broken:
            problems = ["no usable reply: %s" % broken]
            client.close()
            try:
                client = connect(codec, url)
            except OSError as error:
                print("FAIL %s: cannot reconnect after a broken call: %s" % (method, error), flush=True)
                counts[1] += 1
                break
        if problems:
            counts[1] += 1
            more = "; and %d more" % (len(problems) - 4) if len(problems) > 4 else ""
            print("FAIL %s: %s%s | sent %s" % (method, "; ".join(problems[:4]), more, short(args, 100)), flush=True)
    client.close()
    failed = sum(f for _, f in tally.values())
    checked = sum(c for c, _ in tally.values())
    print("%s seed %d: %d values checked, %d failed (%s)" % (
        codec, seed, checked, failed, ", ".join("%s %d/%d" % (m, f, c) for m, (c, f) in tally.items())),
        flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
