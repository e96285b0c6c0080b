/**
 * The handlers of the other end's object calls: `$/call`, `$/get`,
 * `$/release` and the items of streams, `$/items`, served as an ordinary service on the peer. Targets and
 * members are looked up as calls arrive; only exposed members are reached.
 *
 * @module
 */

import { type CallContext, contextHandlerOf, type Service, withContext } from "../service.ts";
import { invalidParams, notExposed, unknownReference } from "./_errors.ts";
import { isExposed, isPlainObject } from "./expose.ts";
import { ReferenceTag } from "./extension.ts";
import type { ReferenceTables } from "./_references.ts";
import { fill, type Values } from "./_values.ts";
import { ExportedIterator, ITERATOR_MEMBERS } from "./_exported_iterator.ts";
import type { StreamListener } from "./_remote.ts";

/** What the handlers serve from. */
export interface ObjectHandlersOptions {
  /** What the other end reaches as its root (target `null`). */
  readonly root: unknown;
  /** The session's reference tables. */
  readonly tables: ReferenceTables;
  /** The session's boxing of values. */
  readonly values: Values;
  /** Told about malformed releases. */
  readonly onError: (error: unknown) => void;
  /** Sends a notification to the other end (pushed items). */
  readonly notify: (method: string, params: unknown[]) => Promise<void>;
  /** The streams this end reads, by the other end's export id. */
  readonly streams: ReadonlyMap<number, StreamListener>;
}

/** The service of `$/call`, `$/get`, `$/release` and `$/items` over one session's tables. */
export function objectHandlers(options: ObjectHandlersOptions): Service {
  const { root, tables, values, onError, notify, streams } = options;

  const target = (wire: unknown): unknown => {
    const target = wire instanceof ReferenceTag ? wire.tag : wire;
    if (target === null || target === undefined) {
      if (root === undefined) throw unknownReference("this end serves no root object");
      return root;
    }
    if (isPlainObject(target) && typeof target.$you === "number") {
      return tables.exported(target.$you);
    }
    if (isPlainObject(target) && typeof target.$answer === "number") {
      return tables.answer(target.$answer);
    }
    throw invalidParams("Invalid params: a target is null, {$you} or {$answer}");
  };

  const member = (holder: unknown, name: unknown): unknown => {
    if (
      holder instanceof ExportedIterator && typeof name === "string" && ITERATOR_MEMBERS.has(name)
    ) {
      return (holder as unknown as Record<string, unknown>)[name];
    }
    if (!isExposed(holder, name)) throw notExposed(name);
    return (holder as Record<string, unknown>)[name as string];
  };

  const call = (ctx: CallContext, params: unknown[]): Promise<unknown> => {
    const [wireTarget, path, args, answer] = params;
    if (
      !Array.isArray(path) || !Array.isArray(args) || params.length > 4 ||
      (answer !== undefined && !Number.isSafeInteger(answer))
    ) {
      throw invalidParams("Invalid params: $/call takes [target, path, args, answer?]");
    }
    // Everything the call refers to is looked up now, in the order calls
    // arrive, so that a release that follows cannot take it away.
    tables.roomForAnswer(answer);
    const base = target(wireTarget);
    if (base instanceof ExportedIterator && path.length === 1 && path[0] === "pull") {
      // Credit granted: the items go out as `$/items [id, items]`, boxed per batch.
      const id = (wireTarget instanceof ReferenceTag ? wireTarget.tag : wireTarget as {
        $you: number;
      }).$you as number;
      return base.pull(args[0], ctx.signal, (items) => pushItems(id, items))
        .then((result) => values.toWire(result));
    }
    const pending: Promise<unknown>[] = [];
    const decoded = values.fromWire(args, pending) as unknown[];
    const outcome = (async () => {
      let holder = await base;
      if (pending.length > 0) await Promise.all(pending);
      const filled = pending.length === 0 ? decoded : await fill(decoded) as unknown[];
      let fn: unknown = holder;
      for (let i = 0; i < path.length; i++) {
        holder = fn;
        fn = member(holder, path[i]);
        if (i < path.length - 1) fn = await fn;
      }
      if (typeof fn !== "function") throw notExposed(path.at(-1) ?? "(the target)");
      const self = path.length === 0 ? undefined : holder;
      // A method marked withContext gets the call's context: its signal fires
      // when the caller cancels or the connection drops.
      const contextual = contextHandlerOf(fn);
      if (contextual !== undefined) return await contextual.call(self, ctx, ...filled);
      return await (fn as (...args: unknown[]) => unknown).apply(self, filled);
    })();
    if (typeof answer === "number") tables.keepAnswer(answer, outcome);
    return outcome.then((result) => values.toWire(result));
  };

  // A batch boxed at once; when part of it is refused, the items before
  // that one still go, then the stream fails with the refusal.
  const pushItems = async (id: number, items: unknown[]): Promise<void> => {
    let wire: unknown;
    try {
      wire = values.toWire(items);
    } catch (error) {
      const boxed: unknown[] = [];
      try {
        for (const item of items) boxed.push(values.toWire(item));
      } finally {
        if (boxed.length > 0) await notify("$/items", [id, boxed]);
      }
      throw error;
    }
    await notify("$/items", [id, wire]);
  };

  const get = async (params: unknown[]): Promise<unknown> => {
    const [wireTarget, path, answer] = params;
    if (!Array.isArray(path) || path.length === 0 || params.length > 3) {
      throw invalidParams("Invalid params: $/get takes [target, path, answer?]");
    }
    tables.roomForAnswer(answer);
    const base = target(wireTarget);
    const outcome = (async () => {
      let holder: unknown = await base;
      let value: unknown = holder;
      for (const name of path) {
        holder = value;
        value = await member(holder, name);
      }
      // A method read without calling it stays bound to its object.
      return typeof value === "function" ? value.bind(holder) : value;
    })();
    if (typeof answer === "number") tables.keepAnswer(answer, outcome);
    return values.toWire(await outcome);
  };

  return {
    "$/call": withContext((ctx: CallContext, ...params: unknown[]) => call(ctx, params)),
    "$/get": (...params: unknown[]) => get(params),
    "$/release": (...params: unknown[]) => tables.release(params, onError),
    // Items pushed for a stream this end reads; those of a stream it has left are dropped.
    "$/items": (...params: unknown[]) => {
      const [id, items] = params;
      if (typeof id !== "number" || !Array.isArray(items) || params.length !== 2) {
        throw invalidParams("Invalid params: $/items takes [id, items]");
      }
      streams.get(id)?.items(items);
    },
  };
}
