// serveRpyc's first-frame and idle timeouts: a client that connects and
// never sends is closed (and onError told), a client that goes quiet after
// its first message is closed quietly, and Python's own client whose
// callback is slow but alive (and a slow TypeScript handler) is not.

import assert from "node:assert/strict";
import { LimitError } from "../rpc/errors.ts";
import { connectRpyc, serveRpyc } from "../rpc/transports/rpyc.ts";
import { DEBIAN_PYTHON, formatOutput, run } from "./interop/_process.ts";
import { testNeeding } from "./_needs.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("serveRpyc: a client that connects and never sends is closed after firstFrameTimeout", async () => {
  const errors: unknown[] = [];
  await using server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, {
    root: {},
    firstFrameTimeout: 200,
    onError: (e) => errors.push(e),
  });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.address.port });
  // The server closes it: the read ends (EOF or reset), bounded by the test's own limit.
  const read = conn.read(new Uint8Array(16)).catch(() => null);
  const ended = await Promise.race([read, delay(10_000).then(() => "still open")]);
  assert.equal(ended, null);
  assert.equal(server.sessions.size, 0);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof LimitError);
  assert.equal(errors[0].limitName, "firstFrameTimeout");
});

Deno.test("serveRpyc: a connection quiet after its first message is closed after idleTimeout, quietly", async () => {
  const errors: unknown[] = [];
  await using server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, {
    root: { exposed_x: 1 },
    firstFrameTimeout: 10_000,
    idleTimeout: 200,
    onError: (e) => errors.push(e),
  });
  await using conn = await connectRpyc(server.address); // GETROOT: its first message
  const closed = await Promise.race([
    conn.closed.then(() => "closed"),
    delay(10_000).then(() => "still open"),
  ]);
  assert.equal(closed, "closed");
  assert.deepEqual(errors, []); // idleness is housekeeping, not an error
});

Deno.test("serveRpyc: the options are checked", () => {
  assert.throws(
    () => serveRpyc({ hostname: "127.0.0.1", port: 0 }, { root: {}, idleTimeout: 0 }),
    RangeError,
  );
});

const SLOW_CALLBACK = `
import sys, time, rpyc
conn = rpyc.connect("127.0.0.1", int(sys.argv[1]), config={"sync_request_timeout": 30})
def slow(x):
    time.sleep(0.8)  # four idle timeouts, while the server waits on this callback
    return x * 2
print(conn.root.twice_slowly(slow, 5))
time.sleep(0.1)
print(conn.root.twice_slowly(slow, 7))
conn.close()
`;

testNeeding("py:rpyc")(
  "serveRpyc: Python's client with a slow but live callback, and a slow handler, is not closed",
  async () => {
    const errors: unknown[] = [];
    await using server = serveRpyc({ hostname: "127.0.0.1", port: 0 }, {
      root: {
        // Slow itself (an incoming call in flight), then waits on Python (an outgoing one).
        exposed_twice_slowly: async (f: (x: number) => Promise<number>, x: number) => {
          await delay(600);
          return await f(x) + await f(x);
        },
      },
      firstFrameTimeout: 2_000,
      idleTimeout: 200,
      onError: (e) => errors.push(e),
    });
    const result = await run(DEBIAN_PYTHON, {
      args: ["-c", SLOW_CALLBACK, String(server.address.port)],
      timeout: 60_000,
    });
    assert.equal(result.code, 0, formatOutput(result));
    assert.deepEqual(result.stdout.trim().split("\n"), ["20", "28"]);
    assert.deepEqual(errors, []);
  },
);
