// Writing Thrift by hand, for tests that send what no IDL would: a field
// of any type under any id, a struct of such fields.

import type { Protocol } from "../../codecs/thrift/_protocol.ts";

/** Writes one field: its header, what `write` writes, its end. */
export const field = (p: Protocol, type: number, id: number, write: () => void): void => {
  p.writeFieldBegin("f", type, id);
  write();
  p.writeFieldEnd();
};

/** Writes a struct of what `write` writes, stop included. */
export const struct = (p: Protocol, write: () => void): void => {
  p.writeStructBegin("s");
  write();
  p.writeFieldStop();
  p.writeStructEnd();
};
