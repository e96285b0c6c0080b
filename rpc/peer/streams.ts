/**
 * Streaming calls for a {@linkcode Peer}: pass {@linkcode peerStreams} as
 * its `streams` option (or a transport's) when its codec carries streams
 * (the protobuf envelope). Kept out of the peer itself so that sessions
 * without streams do not load it.
 *
 * @module
 */

import type { StreamSupport } from "./options.ts";
import { type StreamParts, StreamTable } from "./_streams.ts";

/**
 * Streaming calls for a peer whose codec carries them.
 *
 * @example A server-streaming call over the protobuf envelope
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { peerStreams } from "./streams.ts";
 * import { loadProto, protobufRpc, protoService } from "../../codecs/protobuf.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message Count { int32 n = 1; }
 *   service Counter { rpc Up(Count) returns (stream Count); }
 * `);
 * const service = protoService(schema, "demo.Counter", {
 *   async *Up({ n }: { n: number }): AsyncGenerator<{ n: number }> {
 *     for (let i = 1; i <= n; i++) yield { n: i };
 *   },
 * });
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: protobufRpc({ schema }), service, streams: peerStreams });
 * const client = new Peer(b, { codec: protobufRpc({ schema }), streams: peerStreams });
 * const { messages, result } = client.openStream("demo.Counter/Up", { n: 3 });
 * const read = [];
 * for await (const message of messages) read.push((message as { n: number }).n);
 * await result;
 * assert.deepEqual(read, [1, 2, 3]);
 * await client.close();
 * await server.closed;
 * ```
 *
 * @example Messages both ways
 * ```ts
 * import assert from "node:assert/strict";
 * import { Peer } from "../peer.ts";
 * import { memoryPair } from "../testing.ts";
 * import { loadProto, protobufRpc } from "../../codecs/protobuf.ts";
 * import { type CallContext, withContext } from "../service.ts";
 * import { peerStreams } from "./streams.ts";
 *
 * const schema = loadProto(`
 *   syntax = "proto3";
 *   package demo;
 *   message N { int32 n = 1; }
 *   service Doubler { rpc Double(stream N) returns (stream N); }
 * `);
 * const [a, b] = memoryPair();
 * const server = new Peer(a, {
 *   codec: protobufRpc({ schema }),
 *   streams: peerStreams,
 *   service: {
 *     "demo.Doubler/Double": withContext(async function* (ctx: CallContext) {
 *       for await (const { n } of ctx.input as AsyncIterable<{ n: number }>) yield { n: 2 * n };
 *     }),
 *   },
 * });
 * const client = new Peer(b, { codec: protobufRpc({ schema }), streams: peerStreams });
 * const input = ReadableStream.from([{ n: 1 }, { n: 21 }]);
 * const call = client.openStream("demo.Doubler/Double", undefined, { input });
 * const doubled = [];
 * for await (const message of call.messages) doubled.push(message);
 * assert.deepEqual(doubled, [{ n: 2 }, { n: 42 }]);
 * await client.close();
 * await server.closed;
 * ```
 */
export const peerStreams: StreamSupport = (parts: StreamParts): StreamTable =>
  new StreamTable(parts);
