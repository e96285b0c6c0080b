/**
 * Neovim's handle types as msgpack extension types. Neovim sends buffers,
 * windows and tab pages as MessagePack `ext` values (types 0, 1 and 2, as
 * `nvim_get_api_info` says under `types`) whose data is the handle number,
 * itself MessagePack-encoded. With these, a handle that arrives is an
 * `NvimBuffer` (and so on) and goes back to Neovim as the same `ext`.
 *
 * @module
 */

import { Packr, Unpackr } from "msgpackr";
import { type MsgpackExtension, msgpackExtension } from "../../codecs/msgpack_rpc.ts";

/** A Neovim handle: the number Neovim knows the object by. */
abstract class NvimHandle {
  /**
   * Wraps a handle number.
   *
   * @param id the handle
   */
  constructor(readonly id: number) {}
}

/** A buffer (`ext` type 0). */
export class NvimBuffer extends NvimHandle {}
/** A window (`ext` type 1). */
export class NvimWindow extends NvimHandle {}
/** A tab page (`ext` type 2). */
export class NvimTabpage extends NvimHandle {}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

function handle<T extends NvimHandle>(
  type: number,
  Class: new (id: number) => T,
): MsgpackExtension<T> {
  return msgpackExtension({
    type,
    Class,
    encode: (value) => packr.pack(value.id),
    decode: (data) => {
      const id = unpackr.unpack(data);
      if (!Number.isSafeInteger(id)) throw new TypeError(`a Neovim handle is not an integer`);
      return new Class(id);
    },
  });
}

/** The extensions to give `msgpackRpc()` for Neovim. */
export const neovimExtensions: readonly MsgpackExtension[] = [
  handle(0, NvimBuffer),
  handle(1, NvimWindow),
  handle(2, NvimTabpage),
];
