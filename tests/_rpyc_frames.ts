// Raw RPyC channel frames for the hostile tests: a header as Python's
// channel writes it (4-byte big-endian length, then the zlib flag).

/** The 5-byte header of a packet of `length` bytes; `flag` 1 means zlib. */
export function header(length: number, flag = 0): Uint8Array {
  const out = new Uint8Array(5);
  new DataView(out.buffer).setUint32(0, length);
  out[4] = flag;
  return out;
}
