/**
 * The codec × transport pairs that are fuzzed: the calculator's default
 * wirings (`examples/calculator.ts` with the flags below), each with its
 * inputs and its good client, which calls `add(1, 2)` through parley's own
 * client for the pair on a fresh connection and must get 3.
 *
 * @module
 */

import assert from "node:assert/strict";
import { calculatorSchema } from "../../examples/calculator/protobuf.ts";
import { framingByName } from "../../rpc/framing/by_name.ts";
import { connectClient } from "../../protocols/connect.ts";
import { connectHttp } from "../../rpc/transports/http.ts";
import { connectTcp } from "../../rpc/transports/tcp.ts";
import { connectWebSocket } from "../../rpc/transports/websocket.ts";
import type { Codec } from "../../rpc/types.ts";
import { concat } from "../framing/conformance.ts";
import { clientCodec, connectBodies, envelopeFrames, rpcFrames } from "./_corpus.ts";
import { httpInputs, type InputMaker, streamInputs, websocketInputs } from "./_inputs.ts";
import type { StreamWire } from "./_stream_attacks.ts";

/** How long the good client may take for its call. */
const CALL_TIMEOUT_MS = 5_000;

/** One codec × transport pair. */
export interface Pair {
  /** Such as `jsonrpc-tcp-newline`. */
  readonly name: string;
  /** The calculator's flags. */
  readonly args: readonly string[];
  /** Makes the input of a seed. */
  readonly input: InputMaker;
  /**
   * The good client: calls `add(1, 2)` on a fresh connection to the
   * calculator's `url`; throws unless the answer is 3.
   */
  readonly check: (url: string) => Promise<void>;
}

const schema = calculatorSchema();
const NEWLINE = new Uint8Array([0x0a]);

/** A `fetch` whose connections are its own, so that each check opens a fresh one. */
async function withFreshFetch(body: (fetch: typeof globalThis.fetch) => Promise<void>) {
  using client = Deno.createHttpClient({});
  await body((input, init) => fetch(input, { ...init, client }));
}

function streamPair(
  name: string,
  args: string[],
  codecName: string,
  framingName: string,
  wire: StreamWire,
  protocol: "binary" | "compact" = "binary",
): Pair {
  const codec = clientCodec(codecName, protocol);
  const framing = framingByName(framingName, codec)!;
  const frame = (payload: Uint8Array): Uint8Array => {
    try {
      const framed = framing.frame(payload);
      return framed instanceof Uint8Array ? framed : concat(framed);
    } catch {
      // The framing refuses what a hostile client sends anyway: a line with
      // newlines in it, an empty self-delimiting message.
      return framingName === "newline" ? concat([payload, NEWLINE]) : payload;
    }
  };
  const payloads = codecName === "protobuf" ? envelopeFrames() : rpcFrames(codecName, protocol);
  return {
    name,
    args,
    input: streamInputs(payloads, frame, wire),
    check: async (url) => {
      const { hostname, port } = new URL(url);
      await using peer = await connectTcp({ hostname, port: Number(port) }, {
        codec: clientCodec(codecName, protocol),
        framing: framingByName(framingName, codec)!,
        timeout: CALL_TIMEOUT_MS,
        connectTimeout: CALL_TIMEOUT_MS,
      });
      if (codecName === "protobuf") {
        assert.deepEqual(await peer.call("interop.Calculator/Add", { num1: 1, num2: 2 }), {
          sum: 3,
        });
      } else assert.equal(await peer.call("add", [1, 2]), 3);
    },
  };
}

function websocketPair(name: string, codecName: string): Pair {
  const codec: Codec = clientCodec(codecName);
  return {
    name,
    args: ["--codec", codecName, "--transport", "ws"],
    input: websocketInputs(rpcFrames(codecName), codec.text === true),
    check: async (url) => {
      await using peer = await connectWebSocket(url, {
        codec: clientCodec(codecName),
        timeout: CALL_TIMEOUT_MS,
      });
      assert.equal(await peer.call("add", [1, 2]), 3);
    },
  };
}

/** Every pair, in the order of the report. */
export const PAIRS: readonly Pair[] = [
  streamPair(
    "jsonrpc-tcp-newline",
    ["--codec", "jsonrpc", "--transport", "tcp", "--framing", "newline"],
    "jsonrpc",
    "newline",
    "json-newline",
  ),
  streamPair(
    "jsonrpc-tcp-length-prefix",
    ["--codec", "jsonrpc", "--transport", "tcp", "--framing", "length-prefix"],
    "jsonrpc",
    "length-prefix",
    "json-length-prefix",
  ),
  streamPair(
    "msgpack-tcp-self-delimiting",
    ["--codec", "msgpack", "--transport", "tcp", "--framing", "self-delimiting"],
    "msgpack",
    "self-delimiting",
    "msgpack",
  ),
  streamPair(
    "protobuf-tcp-length-prefix",
    ["--codec", "protobuf", "--transport", "tcp", "--framing", "length-prefix"],
    "protobuf",
    "length-prefix",
    "protobuf",
  ),
  streamPair(
    "thrift-tcp-binary-framed",
    ["--codec", "thrift", "--transport", "tcp", "--framing", "framed"],
    "thrift",
    "framed",
    "thrift-binary-framed",
  ),
  streamPair(
    "thrift-tcp-compact-buffered",
    ["--codec", "thrift", "--transport", "tcp", "--protocol", "compact", "--framing", "buffered"],
    "thrift",
    "buffered",
    "thrift-compact-buffered",
    "compact",
  ),
  {
    name: "xmlrpc-http",
    args: ["--codec", "xmlrpc", "--transport", "http"],
    input: httpInputs(
      rpcFrames("xmlrpc").map((body) => ({ path: "/RPC2", contentType: "text/xml", body })),
    ),
    check: (url) =>
      withFreshFetch(async (fetch) => {
        await using client = connectHttp(url, {
          codec: clientCodec("xmlrpc"),
          fetch,
          timeout: CALL_TIMEOUT_MS,
        });
        assert.equal(await client.call("add", [1, 2]), 3);
      }),
  },
  {
    name: "connect-http",
    args: ["--codec", "protobuf", "--transport", "http"],
    input: httpInputs(connectBodies()),
    check: (url) =>
      withFreshFetch(async (fetch) => {
        await using client = connectClient(url, { schema, fetch, timeout: CALL_TIMEOUT_MS });
        assert.deepEqual(await client.call("interop.Calculator/Add", { num1: 1, num2: 2 }), {
          sum: 3,
        });
      }),
  },
  websocketPair("jsonrpc-ws", "jsonrpc"),
  websocketPair("msgpack-ws", "msgpack"),
];

/**
 * The pair of a name.
 *
 * @param name such as `msgpack-ws`
 * @returns the pair
 * @throws {Error} naming the pairs there are, for an unknown name
 */
export function pairByName(name: string): Pair {
  const pair = PAIRS.find((candidate) => candidate.name === name);
  if (pair === undefined) {
    throw new Error(`unknown pair "${name}"; the pairs are ${PAIRS.map((p) => p.name).join(", ")}`);
  }
  return pair;
}
