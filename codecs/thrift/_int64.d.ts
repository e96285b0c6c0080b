// node-int64 ships no types: the part parley uses.
import type { Buffer } from "node:buffer";

declare class Int64 {
  constructor(high: number, low: number);
  constructor(buffer: Uint8Array, offset?: number);
  readonly buffer: Buffer;
  readonly offset: number;
}
export default Int64;
