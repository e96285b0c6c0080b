/**
 * RPyC's channel (`rpyc/core/channel.py`): each packet is a 4-byte
 * big-endian length, a compression flag byte, that many bytes, and a
 * newline. Packets over 3 000 bytes are zlib-compressed, as Python does; a
 * compressed packet is inflated only up to a limit, so a zlib bomb is
 * refused instead of filling memory.
 *
 * @example A packet through a channel pair
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpycChannel } from "./channel.ts";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const stream = { readable: pipe.readable, writable: pipe.writable, close() {} };
 * const channel = new RpycChannel(stream);
 * // The pipe holds nothing: the send completes as the receive reads it.
 * const sent = channel.send(new Uint8Array(5000).fill(7)); // compressed on the wire
 * assert.deepEqual(await channel.recv(), new Uint8Array(5000).fill(7));
 * await sent;
 * ```
 *
 * @module
 */

import { DecodeError, FrameSizeError } from "../../rpc/errors.ts";
import type { ByteStream } from "../../rpc/types.ts";
import { directBytesOf } from "../../rpc/_direct.ts";
import { PacketWriter } from "./_packet_writer.ts";
import { concatBytes } from "../../rpc/framing/_concat.ts";

/** Limits and choices of an {@linkcode RpycChannel}. */
export interface RpycChannelOptions {
  /** Largest packet on the wire, header excluded; 16 MiB by default. */
  readonly maxFrameBytes?: number;
  /** Largest packet once inflated; 64 MiB by default. */
  readonly maxInflatedBytes?: number;
  /** Compress packets over 3 000 bytes, as Python does; true by default. */
  readonly compress?: boolean;
  /**
   * Bytes sent and not yet written past which {@linkcode RpycChannel.recv}
   * waits before reading on: a peer that sends requests and never reads
   * their replies stops being read instead of growing this side's memory;
   * 1 MiB by default.
   */
  readonly maxBacklogBytes?: number;
}

const HEADER = 5;
const COMPRESSION_THRESHOLD = 3000;
const NEWLINE = 0x0a;

/**
 * Packets over a byte stream, RPyC's way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpycChannel } from "./channel.ts";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const channel = new RpycChannel({ readable: pipe.readable, writable: pipe.writable, close() {} });
 * const sent = channel.send(new Uint8Array([1, 2]));
 * assert.deepEqual(await channel.recv(), new Uint8Array([1, 2]));
 * await sent;
 * ```
 */
export class RpycChannel {
  readonly #stream: ByteStream;
  readonly #input: () => Promise<Uint8Array | null>;
  readonly #output: PacketWriter;
  readonly #stop: () => Promise<void>;
  readonly #maxFrame: number;
  readonly #maxInflated: number;
  readonly #compress: boolean;
  readonly #maxBacklog: number;
  #buffered: Uint8Array = new Uint8Array();
  #ended = false;

  /**
   * Takes over the stream: through parley's shortcut past its Web Streams
   * when it offers one (a socket of `connByteStream`), else its reader and
   * writer.
   *
   * @param stream the connection's bytes
   * @param options limits, compression
   */
  constructor(stream: ByteStream, options: RpycChannelOptions = {}) {
    this.#stream = stream;
    const direct = directBytesOf(stream);
    if (direct) {
      // Grown when a read fills it: an idle connection holds little.
      let scratch = new Uint8Array(4096);
      this.#input = async () => {
        const n = await direct.read(scratch);
        if (n === null) return null;
        const chunk = scratch.slice(0, n);
        if (n === scratch.length && n < 65536) scratch = new Uint8Array(n * 2);
        return chunk;
      };
      this.#output = new PacketWriter((bytes) => direct.write(bytes));
      this.#stop = () => Promise.resolve(direct.closeWrite());
    } else {
      const reader = stream.readable.getReader();
      const writer = stream.writable.getWriter();
      this.#input = async () => {
        const { value, done } = await reader.read();
        return done || value === undefined ? null : value;
      };
      this.#output = new PacketWriter((bytes) => writer.write(bytes));
      this.#stop = async () => {
        await reader.cancel().catch(() => {});
        await writer.close().catch(() => {});
      };
    }
    this.#maxFrame = options.maxFrameBytes ?? 16 * 1024 * 1024;
    this.#maxInflated = options.maxInflatedBytes ?? 64 * 1024 * 1024;
    this.#compress = options.compress ?? true;
    this.#maxBacklog = options.maxBacklogBytes ?? 1024 * 1024;
  }

  /**
   * Sends one packet; packets are written whole, in the order sent (a
   * compressed one holds back those sent after it), and the packets of one
   * turn leave in one write.
   *
   * @param data the packet
   * @returns settles once the packet is written
   */
  send(data: Uint8Array): Promise<void> {
    if (!this.#compress || data.length <= COMPRESSION_THRESHOLD) {
      return this.#output.push(packetOf(data, 0));
    }
    const packet = pipeAll(data, new CompressionStream("deflate"), Infinity)
      .then((body) => packetOf(body, 1));
    return this.#output.push(packet);
  }

  /**
   * Receives the next packet.
   *
   * Waits first while more than `maxBacklogBytes` sent are not yet written.
   *
   * @returns the packet, or `null` when the stream ended between packets
   * @throws {DecodeError} when the stream ended inside a packet, the flag is
   * not 0 or 1, the newline is missing, or compressed data is corrupt
   * @throws {FrameSizeError} when a packet is over either limit
   */
  async recv(): Promise<Uint8Array | null> {
    if (this.#output.backlog > this.#maxBacklog) await this.#output.below(this.#maxBacklog);
    const header = await this.#read(HEADER, true);
    if (header === null) return null;
    const view = new DataView(header.buffer, header.byteOffset, HEADER);
    const length = view.getUint32(0);
    const flag = header[4]!;
    if (flag > 1) throw new DecodeError("rpyc channel", `compression flag ${flag}, not 0 or 1`, 4);
    if (length > this.#maxFrame) throw new FrameSizeError(length, this.#maxFrame);
    const packet = (await this.#read(length + 1, false))!;
    if (packet[length] !== NEWLINE) {
      throw new DecodeError("rpyc channel", "packet not ended by a newline", HEADER + length);
    }
    const body = packet.subarray(0, length);
    if (flag === 0) return body;
    try {
      return await pipeAll(body, new DecompressionStream("deflate"), this.#maxInflated);
    } catch (e) {
      if (e instanceof FrameSizeError) throw e;
      throw new DecodeError("rpyc channel", "corrupt zlib data", HEADER, { cause: e });
    }
  }

  /** Closes the stream below; a pending {@linkcode recv} ends. */
  async close(): Promise<void> {
    await this.#stop().catch(() => {});
    await this.#stream.close();
  }

  // Exactly n bytes; null when the stream ends before the first of them and
  // `mayEnd` (between packets).
  async #read(n: number, mayEnd: boolean): Promise<Uint8Array | null> {
    const parts: Uint8Array[] = [];
    let have = 0;
    const take = (chunk: Uint8Array) => {
      const used = chunk.subarray(0, n - have);
      parts.push(used);
      have += used.length;
      this.#buffered = chunk.subarray(used.length);
    };
    if (this.#buffered.length > 0) take(this.#buffered);
    while (have < n) {
      const value = this.#ended ? null : await this.#input();
      if (value === null) {
        this.#ended = true;
        if (have === 0 && mayEnd) return null;
        throw new DecodeError("rpyc channel", `stream ended ${n - have} bytes short of a packet`);
      }
      take(value);
    }
    return concatBytes(parts, n);
  }
}

function packetOf(body: Uint8Array, compressed: number): Uint8Array {
  const packet = new Uint8Array(HEADER + body.length + 1);
  new DataView(packet.buffer).setUint32(0, body.length);
  packet[4] = compressed;
  packet.set(body, HEADER);
  packet[packet.length - 1] = NEWLINE;
  return packet;
}

// Runs bytes through a (de)compressor, refusing output over `limit`.
async function pipeAll(
  data: Uint8Array,
  transform: CompressionStream | DecompressionStream,
  limit: number,
) {
  const writer = transform.writable.getWriter();
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = transform.readable.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new FrameSizeError(size, limit);
    }
    parts.push(value);
  }
  return concatBytes(parts, size);
}
