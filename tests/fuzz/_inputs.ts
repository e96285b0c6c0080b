/**
 * What one fuzz input is, and how each transport makes one from its seed:
 * mutated valid frames (the frame's bytes, or its payload re-framed so that
 * the mutation reaches the codec), several messages in one write, random
 * bytes, and the transport's attacks. Every input is made from its seed
 * alone.
 *
 * @module
 */

import { concat } from "../framing/conformance.ts";
import { httpAttack, type HttpBody, httpPost } from "./_http.ts";
import { chunked, mutate } from "./_mutate.ts";
import { Prng } from "./_prng.ts";
import { streamAttack, type StreamWire } from "./_stream_attacks.ts";
import { handshake, Op, websocketAttack, wsFrame } from "./_websocket.ts";

/** The kinds of input, the rows of the report's breakdown. */
export type InputKind =
  | "mutated-frame"
  | "mutated-payload"
  | "several-messages"
  | "random-bytes"
  | "framing-attack"
  | "http-attack"
  | "websocket-attack";

/** One input: what is sent on one fresh connection, which is then half-closed. */
export interface Input {
  /** The seed it was made from, which makes it again. */
  readonly seed: number;
  /** What sort of input it is. */
  readonly kind: InputKind;
  /** What was done, for a failure's report. */
  readonly label: string;
  /** A WebSocket handshake sent first; the writes follow its answer. */
  readonly handshake?: Uint8Array;
  /** The bytes, in separate writes. */
  readonly writes: readonly Uint8Array[];
  /** Each write in its own turn, so that the server reads them one by one. */
  readonly drip: boolean;
}

/** Makes the input of a seed; `port` is the server's, for Host headers. */
export type InputMaker = (seed: number, port: number) => Input;

const MAX_DRIP_WRITES = 300;

function dripped(bytes: Uint8Array): Uint8Array[] {
  // One byte per write, at most MAX_DRIP_WRITES writes: the rest goes in the last.
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (out.length === MAX_DRIP_WRITES - 1) {
      out.push(bytes.subarray(i));
      break;
    }
    out.push(bytes.subarray(i, i + 1));
  }
  return out;
}

function randomBytes(rng: Prng): Uint8Array {
  return rng.bytes(rng.chance(0.8) ? rng.range(1, 256) : rng.range(257, 8192));
}

/**
 * Inputs for a byte-stream server (TCP).
 *
 * @param payloads valid frames of the codec, before framing
 * @param frame the pair's framing of one payload
 * @param wire the framing and codec, for its attacks
 * @returns the maker of inputs
 *
 * @example
 * ```ts
 * import { streamInputs } from "./_inputs.ts";
 * const make = streamInputs([new Uint8Array([0x90]), new Uint8Array([0xc0])], (p) => p, "msgpack");
 * console.log(make(1, 0).kind);
 * ```
 */
export function streamInputs(
  payloads: readonly Uint8Array[],
  frame: (payload: Uint8Array) => Uint8Array,
  wire: StreamWire,
): InputMaker {
  return (seed) => {
    const rng = new Prng(seed);
    const valid = () => rng.pick(payloads);
    const roll = rng.int(100);
    let kind: InputKind;
    let label: string;
    let bytes: Uint8Array;
    let drip = false;
    if (roll < 35) {
      kind = "mutated-frame";
      ({ bytes, label } = mutate(rng, frame(valid()), frame(valid())));
    } else if (roll < 55) {
      kind = "mutated-payload";
      const mutated = mutate(rng, valid(), valid());
      bytes = frame(mutated.bytes);
      label = `payload: ${mutated.label}`;
    } else if (roll < 65) {
      kind = "several-messages";
      const count = rng.range(2, 4);
      const parts = Array.from({ length: count }, () => {
        const payload = valid();
        return rng.chance(0.5) ? frame(payload) : mutate(rng, frame(payload), frame(valid())).bytes;
      });
      bytes = concat(parts);
      label = `${count} frames, some mutated, in one stream`;
    } else if (roll < 75) {
      kind = "random-bytes";
      bytes = randomBytes(rng);
      label = `${bytes.length} random bytes`;
    } else {
      kind = "framing-attack";
      const attack = streamAttack(rng, wire, frame);
      ({ bytes, label } = attack);
      drip = attack.drip === true;
    }
    return { seed, kind, label, writes: drip ? dripped(bytes) : chunked(rng, bytes), drip };
  };
}

/**
 * Inputs for an HTTP server.
 *
 * @param requests valid requests' parts
 * @returns the maker of inputs
 *
 * @example
 * ```ts
 * import { httpInputs } from "./_inputs.ts";
 * const body = new TextEncoder().encode("<methodCall/>");
 * const make = httpInputs([{ path: "/RPC2", contentType: "text/xml", body }]);
 * console.log(make(3, 0).label);
 * ```
 */
export function httpInputs(requests: readonly HttpBody[]): InputMaker {
  return (seed) => {
    const rng = new Prng(seed);
    const valid = () => rng.pick(requests);
    const roll = rng.int(100);
    let kind: InputKind;
    let label: string;
    let bytes: Uint8Array;
    if (roll < 35) {
      kind = "mutated-payload";
      const request = valid();
      const mutated = mutate(rng, request.body, valid().body);
      bytes = httpPost({ ...request, body: mutated.bytes });
      label = `${request.path} body: ${mutated.label}`;
    } else if (roll < 50) {
      kind = "mutated-frame";
      ({ bytes, label } = mutate(rng, httpPost(valid()), httpPost(valid())));
      label = `request: ${label}`;
    } else if (roll < 60) {
      kind = "random-bytes";
      bytes = randomBytes(rng);
      label = `${bytes.length} random bytes`;
    } else {
      kind = "http-attack";
      ({ bytes, label } = httpAttack(rng, valid()));
    }
    return { seed, kind, label, writes: chunked(rng, bytes), drip: false };
  };
}

/**
 * Inputs for a WebSocket route, after the handshake.
 *
 * @param messages valid messages of the route's codec
 * @param text whether the codec's messages are text
 * @returns the maker of inputs
 *
 * @example
 * ```ts
 * import { websocketInputs } from "./_inputs.ts";
 * const make = websocketInputs([new TextEncoder().encode("{}")], true);
 * console.log(make(2, 8080).label);
 * ```
 */
export function websocketInputs(messages: readonly Uint8Array[], text: boolean): InputMaker {
  const data = text ? Op.Text : Op.Binary;
  return (seed, port) => {
    const rng = new Prng(seed);
    const valid = () => rng.pick(messages);
    const mask = () => rng.bytes(4);
    const roll = rng.int(100);
    let kind: InputKind;
    let label: string;
    let bytes: Uint8Array;
    let upgrade = handshake(port);
    if (roll < 30) {
      kind = "mutated-payload";
      const mutated = mutate(rng, valid(), valid());
      bytes = wsFrame(data, mutated.bytes, { mask: mask() });
      label = `message: ${mutated.label}`;
    } else if (roll < 45) {
      kind = "several-messages";
      const count = rng.range(2, 4);
      bytes = concat(Array.from({ length: count }, () => {
        const message = rng.chance(0.5) ? valid() : mutate(rng, valid(), valid()).bytes;
        return wsFrame(data, message, { mask: mask() });
      }));
      label = `${count} messages, some mutated, in one write`;
    } else if (roll < 60) {
      kind = "mutated-frame";
      ({ bytes, label } = mutate(
        rng,
        wsFrame(data, valid(), { mask: mask() }),
        wsFrame(data, valid()),
      ));
      label = `frame: ${label}`;
    } else if (roll < 70) {
      kind = "random-bytes";
      bytes = randomBytes(rng);
      label = `${bytes.length} random bytes after the handshake`;
    } else {
      kind = "websocket-attack";
      const attack = websocketAttack(rng, valid(), text, port);
      bytes = attack.bytes;
      label = attack.label;
      if (attack.handshake !== undefined) upgrade = attack.handshake;
    }
    return { seed, kind, label, handshake: upgrade, writes: chunked(rng, bytes), drip: false };
  };
}
