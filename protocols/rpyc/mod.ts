/**
 * RPyC's own protocol (Python's `rpyc` 5.x): brine values, the channel,
 * messages, and a client session whose remote objects are proxies. The
 * Deno transport is `connectRpyc` in the `./rpyc` export.
 *
 * @example Brine, as Python writes `(1, "a")`
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBrine } from "./mod.ts";
 *
 * assert.deepEqual(encodeBrine([1, "a"]), new Uint8Array([0x11, 0x51, 0x08, 0x0a, 0x61]));
 * ```
 *
 * @module
 */

export * from "./brine.ts";
export * from "./channel.ts";
export * from "./messages.ts";
export * from "./netref.ts";
export * from "./proxy.ts";
export * from "./sugar.ts";
export * from "./classic.ts";
export * from "./session.ts";
export * from "./connection.ts";
