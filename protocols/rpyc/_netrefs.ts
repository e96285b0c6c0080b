// The session's table of Python's objects held here, and unboxing: a
// REMOTE_REF becomes the one Netref alive for its id pack (its count one
// more, as Python counts each time it sends it) or a new one; a LOCAL_REF
// the TypeScript object it names. Netrefs are held weakly: one collected
// without release() is given back (DEL) with the count it had.

import { DecodeError } from "../../rpc/errors.ts";
import type { BrineValue } from "./brine.ts";
import { type IdPack, isIdPack, LABEL } from "./messages.ts";
import { Netref, type NetrefHost } from "./netref.ts";
import type { LocalObjects } from "./_local_objects.ts";

/** A netref as the session holds it: weakly, with its count. */
interface Held {
  readonly key: string;
  readonly idPack: IdPack;
  readonly tally: { count: number };
  readonly ref: WeakRef<Netref>;
}

/** Python's objects held by one session, by id pack. */
export class NetrefTable {
  readonly #host: NetrefHost;
  readonly #locals: LocalObjects;
  readonly #netrefs = new Map<string, Held>();
  readonly #collected: FinalizationRegistry<Held>;

  /**
   * @param host the session the netrefs send their requests through
   * @param locals the session's TypeScript objects, for LOCAL_REF
   * @param sendDel gives `count` references to `idPack` back to Python
   */
  constructor(
    host: NetrefHost,
    locals: LocalObjects,
    sendDel: (idPack: IdPack, count: number) => void,
  ) {
    this.#host = host;
    this.#locals = locals;
    this.#collected = new FinalizationRegistry<Held>((held) => {
      if (this.#netrefs.get(held.key) === held) this.#netrefs.delete(held.key);
      sendDel(held.idPack, held.tally.count);
    });
  }

  /** How many netrefs are alive and not released. */
  get live(): number {
    let live = 0;
    for (const held of this.#netrefs.values()) if (held.ref.deref()) live++;
    return live;
  }

  /** Forgets a netref being released: its DEL is sent by the caller, not the finalizer. */
  forget(netref: Netref): void {
    const k = key(netref.idPack);
    if (this.#netrefs.get(k)?.ref.deref() === netref) this.#netrefs.delete(k);
    this.#collected.unregister(netref);
  }

  /** A boxed value as a TypeScript value. */
  unbox(box: BrineValue): unknown {
    if (!Array.isArray(box) || box.length !== 2) {
      throw new DecodeError("rpyc", "a boxed value is not a (label, value) pair");
    }
    const [label, value] = box as [unknown, BrineValue];
    switch (label) {
      case LABEL.VALUE:
        return value;
      case LABEL.TUPLE:
        if (!Array.isArray(value)) throw new DecodeError("rpyc", "a boxed tuple is not a tuple");
        return Object.freeze(value.map((item: BrineValue) => this.unbox(item)));
      case LABEL.REMOTE_REF:
        if (!isIdPack(value)) throw new DecodeError("rpyc", "a reference without its id pack");
        return this.#netref(value);
      case LABEL.LOCAL_REF:
        return this.#locals.get(value);
      default:
        throw new DecodeError("rpyc", `unknown boxing label ${String(label)}`);
    }
  }

  #netref(idPack: IdPack): Netref {
    const k = key(idPack);
    const held = this.#netrefs.get(k);
    const cached = held?.ref.deref();
    if (held && cached) {
      held.tally.count++;
      return cached;
    }
    // New, or collected and not yet finalized: that one's finalizer gives
    // back its own count, this one starts its own.
    const tally = { count: 1 };
    const netref = new Netref(this.#host, idPack, tally);
    const entry: Held = { key: k, idPack, tally, ref: new WeakRef(netref) };
    this.#netrefs.set(k, entry);
    this.#collected.register(netref, entry, netref);
    return netref;
  }
}

function key(idPack: readonly unknown[]): string {
  return idPack.map(String).join("\u0000");
}
