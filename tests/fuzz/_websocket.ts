/**
 * WebSocket bytes by hand for fuzzing (RFC 6455): the client handshake,
 * frames with any opcode, mask, RSV bits and declared length, and the
 * attacks a hostile client can make at the frame level — bad masks, reserved
 * opcodes, control frames too big or fragmented, fragments without end,
 * continuations without start, huge declared lengths, bad close frames,
 * broken handshakes.
 *
 * @module
 */

import { concat } from "../framing/conformance.ts";
import type { Prng } from "./_prng.ts";

const encoder = new TextEncoder();

/** Opcodes (RFC 6455, section 5.2). */
export const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** How to build a frame; by default a masked, final frame with its real length. */
export interface FrameOptions {
  /** The FIN bit: the last fragment of a message (true by default). */
  readonly fin?: boolean;
  /** RSV1-3 as the top bits of the first byte (0x70 for all three). */
  readonly rsv?: number;
  /** The masking key; `null` sends the frame unmasked. */
  readonly mask?: Uint8Array | null;
  /** A length to declare instead of the payload's own. */
  readonly declared?: bigint;
  /** Use the 64-bit length form even for a short payload (not minimal). */
  readonly longForm?: boolean;
}

const DEFAULT_MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/**
 * A client frame.
 *
 * @param opcode the opcode (any 4-bit value)
 * @param payload the payload, masked here unless `mask` is `null`
 * @param options FIN, RSV, mask and length overrides
 * @returns the frame's bytes
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Op, wsFrame } from "./_websocket.ts";
 * const bytes = wsFrame(Op.Text, new TextEncoder().encode("hi"), { mask: null });
 * assert.deepEqual([...bytes], [0x81, 2, 0x68, 0x69]);
 * ```
 */
export function wsFrame(
  opcode: number,
  payload: Uint8Array,
  options: FrameOptions = {},
): Uint8Array {
  const mask = options.mask === undefined ? DEFAULT_MASK : options.mask;
  const length = options.declared ?? BigInt(payload.length);
  const head: number[] = [((options.fin ?? true) ? 0x80 : 0) | (options.rsv ?? 0) | (opcode & 0xf)];
  const maskBit = mask === null ? 0 : 0x80;
  if (length < 126n && options.longForm !== true) head.push(maskBit | Number(length));
  else if (length < 65536n && options.longForm !== true) {
    head.push(maskBit | 126, Number(length >> 8n), Number(length & 0xffn));
  } else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  if (mask !== null) head.push(...mask);
  const body = mask === null ? payload : payload.map((byte, i) => byte ^ mask[i % 4]!);
  return concat([new Uint8Array(head), body]);
}

/**
 * The handshake of a client asking for `/rpc`, with `headers` over the usual
 * ones (`undefined` leaves one out).
 *
 * @param port the server's port, for the Host header
 * @param headers overrides
 * @param requestLine the request line, `GET /rpc HTTP/1.1` by default
 * @returns the request's bytes
 *
 * @example
 * ```ts
 * import { handshake } from "./_websocket.ts";
 * console.log(new TextDecoder().decode(handshake(8080)));
 * ```
 */
export function handshake(
  port: number,
  headers: Record<string, string | undefined> = {},
  requestLine = "GET /rpc HTTP/1.1",
): Uint8Array {
  const all: Record<string, string | undefined> = {
    host: `127.0.0.1:${port}`,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    ...headers,
  };
  let text = `${requestLine}\r\n`;
  for (const [name, value] of Object.entries(all)) {
    if (value !== undefined) text += `${name}: ${value}\r\n`;
  }
  return encoder.encode(`${text}\r\n`);
}

/** A frame-level attack: the frames to send after the handshake, or a broken handshake. */
export interface WebSocketAttack {
  /** What the attack is. */
  readonly label: string;
  /** Replaces the handshake when set (then nothing is upgraded). */
  readonly handshake?: Uint8Array;
  /** What to send after the handshake's answer. */
  readonly bytes: Uint8Array;
}

function closePayload(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat([new Uint8Array([code >> 8, code & 0xff]), reason]);
}

/**
 * One attack at random, built around `message` (a valid message of the
 * route's codec) and sent as a `text` or binary message as the codec expects.
 *
 * @param rng the input's PRNG
 * @param message a valid message
 * @param text whether the route's codec reads text messages
 * @param port the server's port, for broken handshakes
 * @returns the attack
 *
 * @example
 * ```ts
 * import { Prng } from "./_prng.ts";
 * import { websocketAttack } from "./_websocket.ts";
 * const attack = websocketAttack(new Prng(3), new Uint8Array([0x90]), false, 8080);
 * console.log(attack.label, attack.bytes.length);
 * ```
 */
export function websocketAttack(
  rng: Prng,
  message: Uint8Array,
  text: boolean,
  port: number,
): WebSocketAttack {
  const data = text ? Op.Text : Op.Binary;
  const randomMask = () => rng.bytes(4);
  const attacks: (() => WebSocketAttack)[] = [
    () => ({ label: "unmasked data frame", bytes: wsFrame(data, message, { mask: null }) }),
    () => {
      // The mask bit set, and the frame cut inside the key.
      const frame = wsFrame(data, message, { mask: randomMask() });
      const headerEnd = frame.length - message.length;
      return { label: "frame cut inside its masking key", bytes: frame.subarray(0, headerEnd - 2) };
    },
    () => {
      const opcode = rng.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]);
      return { label: `reserved opcode ${opcode}`, bytes: wsFrame(opcode, message) };
    },
    () => {
      const opcode = rng.pick([Op.Ping, Op.Pong, Op.Close]);
      const size = rng.pick([126, 127, 200, 65535, 70000]);
      return {
        label: `control frame ${opcode} of ${size} bytes`,
        bytes: wsFrame(opcode, rng.bytes(size)),
      };
    },
    () => ({
      label: "fragmented ping",
      bytes: wsFrame(Op.Ping, new Uint8Array(3), { fin: false }),
    }),
    () => {
      // A message that never ends: fragments without FIN, bounded here.
      const count = rng.range(2, 200);
      const piece = rng.bytes(rng.range(1, 4096));
      const frames = [wsFrame(data, piece, { fin: false })];
      for (let i = 1; i < count; i++) frames.push(wsFrame(Op.Continuation, piece, { fin: false }));
      return {
        label: `${count} fragments of ${piece.length} bytes without FIN`,
        bytes: concat(frames),
      };
    },
    () => ({
      label: "continuation with nothing to continue",
      bytes: wsFrame(Op.Continuation, message),
    }),
    () => {
      const cut = rng.int(message.length + 1);
      return {
        label: "a new data frame inside a fragmented message",
        bytes: concat([
          wsFrame(data, message.subarray(0, cut), { fin: false }),
          wsFrame(data, message),
        ]),
      };
    },
    () => {
      const cut = rng.int(message.length + 1);
      return {
        label: "a ping between two fragments (valid)",
        bytes: concat([
          wsFrame(data, message.subarray(0, cut), { fin: false, mask: randomMask() }),
          wsFrame(Op.Ping, encoder.encode("p")),
          wsFrame(Op.Continuation, message.subarray(cut), { mask: randomMask() }),
        ]),
      };
    },
    () => {
      const declared = rng.pick([
        2n ** 63n,
        2n ** 62n,
        2n ** 32n,
        16n * 1024n * 1024n + 1n,
        65535n,
      ]);
      return {
        label: `declares ${declared} bytes, sends ${message.length}`,
        bytes: wsFrame(data, message, { declared }),
      };
    },
    () => ({
      label: "64-bit length form for a short frame",
      bytes: wsFrame(data, message, { longForm: true }),
    }),
    () => {
      const rsv = rng.pick([0x10, 0x20, 0x40, 0x70]);
      return { label: `RSV bits 0x${rsv.toString(16)}`, bytes: wsFrame(data, message, { rsv }) };
    },
    () => {
      const code = rng.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535]);
      return { label: `close with code ${code}`, bytes: wsFrame(Op.Close, closePayload(code)) };
    },
    () => ({
      label: "close with a reason that is not UTF-8",
      bytes: wsFrame(Op.Close, closePayload(1000, new Uint8Array([0xc3, 0x28, 0xff]))),
    }),
    () => ({ label: "close of one byte", bytes: wsFrame(Op.Close, new Uint8Array([3])) }),
    () => ({
      label: "a data frame after close",
      bytes: concat([wsFrame(Op.Close, closePayload(1000)), wsFrame(data, message)]),
    }),
    () => ({
      label: "text that is not UTF-8",
      bytes: wsFrame(Op.Text, new Uint8Array([0x22, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x22])),
    }),
    () => ({
      label: text ? "a binary message for a text codec" : "a text message for a binary codec",
      bytes: wsFrame(text ? Op.Binary : Op.Text, text ? message : encoder.encode("[0,1,2]")),
    }),
    () => brokenHandshake(rng, port, message, data),
  ];
  return rng.pick(attacks)();
}

function brokenHandshake(
  rng: Prng,
  port: number,
  message: Uint8Array,
  data: number,
): WebSocketAttack {
  const cases: [string, Record<string, string | undefined>, string?][] = [
    ["handshake without a key", { "sec-websocket-key": undefined }],
    ["handshake with a key that is not base64", { "sec-websocket-key": "!!!" }],
    ["handshake with version 8", { "sec-websocket-version": "8" }],
    ["handshake without Connection: Upgrade", { connection: undefined }],
    ["handshake with Upgrade: h2c", { upgrade: "h2c" }],
    ["handshake over HTTP/1.0", {}, "GET /rpc HTTP/1.0"],
    ["handshake with POST", {}, "POST /rpc HTTP/1.1"],
    ["handshake to a wrong path", {}, "GET /nowhere HTTP/1.1"],
    ["handshake with a 64 KiB header", { "x-big": "a".repeat(65536) }],
    ["handshake with two keys", { "sec-websocket-key": "AAAAAAAAAAAAAAAAAAAAAA==, AQ==" }],
  ];
  const [label, headers, line] = rng.pick(cases);
  const request = handshake(port, headers, line);
  // Frames sent with the handshake, before any answer, as an eager client would.
  const eager = rng.chance(0.5);
  return {
    label: eager ? `${label}, frames sent before the answer` : label,
    handshake: eager ? concat([request, wsFrame(data, message)]) : request,
    bytes: new Uint8Array(0),
  };
}
