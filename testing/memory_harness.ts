/**
 * The in-memory transport as a {@linkcode TransportHarness}: a
 * {@linkcode memoryPair} per connection, a {@linkcode Peer} on each end. The
 * model for a harness of a transport of your own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryHarness } from "./memory_harness.ts";
 * import { transportService } from "./transport_suite.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const server = await memoryHarness().start({
 *   codec: jsonRpc(),
 *   service: transportService(),
 *   maxFrameSize: 1024,
 * });
 * const client = await server.connect();
 * assert.equal(await client.call("add", [1, 2]), 3);
 * await server.close();
 * ```
 *
 * @module
 */

import { Peer } from "../rpc/peer.ts";
import { memoryPair } from "../rpc/testing.ts";
import type { RunningTransport, TransportHarness } from "./transport_suite.ts";

/**
 * A harness over in-memory pairs.
 *
 * @returns the harness
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryHarness } from "./memory_harness.ts";
 *
 * const harness = memoryHarness();
 * assert.equal(harness.name, "memory");
 * assert.ok(harness.cannot?.frameSize); // what it cannot test, and why
 * ```
 */
export function memoryHarness(): TransportHarness {
  return {
    name: "memory",
    cannot: {
      frameSize:
        "a memory pair carries frames whole, unmeasured: byte streams' framings and WebSocket enforce maxFrameSize",
    },
    start: ({ codec, service }): Promise<RunningTransport> => {
      const ends: Peer[] = [];
      return Promise.resolve({
        connect: (clientService) => {
          const [a, b] = memoryPair();
          ends.push(new Peer(a, { codec, service }));
          const options = clientService === undefined ? {} : { service: clientService };
          return Promise.resolve(new Peer(b, { codec, ...options }));
        },
        serverEnd: () => ends.at(-1)!,
        released: () => ends.at(-1)!.closed,
        close: async () => {
          await Promise.all(ends.map((end) => end.close()));
        },
      });
    },
  };
}
