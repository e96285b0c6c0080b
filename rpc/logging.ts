/**
 * Structured logging: a {@linkcode Logger} hook with levels and fields, in
 * place of bare writes to stderr. A call's outcome decides its level, so
 * that a log read at `info` shows what clients got wrong and one at `error`
 * only what the server itself got wrong:
 *
 * - `debug`: every call, with its side, method, duration and outcome;
 * - `info`: the caller's mistakes and the answers a handler chose to give
 *   (an {@linkcode RpcError} thrown on purpose, bad params, an unknown
 *   method, a frame that does not decode, a limit passed, a timeout);
 * - `warn`: refusals for lack of room (`ServerBusy`);
 * - `error`: the server's own faults (a handler that threw something other
 *   than an `RpcError`, an internal error).
 *
 * `console` is a `Logger`, and so are LogTape's and winston's loggers
 * (message first, then fields). Web-standard only.
 *
 * @module
 */

import {
  ConnectionClosedError,
  DecodeError,
  ErrorCode,
  FrameSizeError,
  LimitError,
  ProtocolError,
  RpcError,
  TimeoutError,
} from "./errors.ts";
import type { InterceptedCall, Interceptor } from "./interceptors.ts";

/** How much a record matters, least first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A record's fields: plain data (errors and bigints are written as text by {@linkcode lineLogger}). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where records go: one method per level, the message first, then fields. */
export interface Logger {
  /** What every call did. */
  debug(message: string, fields?: LogFields): void;
  /** What clients got wrong. */
  info(message: string, fields?: LogFields): void;
  /** Refusals for lack of room. */
  warn(message: string, fields?: LogFields): void;
  /** The server's own faults. */
  error(message: string, fields?: LogFields): void;
}

// Errors a `logging` interceptor has written, so that the `onError` hook of
// the same server (told of a handler's fault too) does not write them again.
const LOGGED = new WeakSet<object>();

const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * The level at which an error is worth logging: `error` for the server's
 * own faults, `warn` for `ServerBusy`, `info` for what the caller got wrong
 * or was told on purpose, `debug` for a connection that closed.
 *
 * @param error what a call or a connection failed with
 * @returns its level
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { levelOf } from "./logging.ts";
 * import { ErrorCode, RpcError } from "./errors.ts";
 *
 * assert.equal(levelOf(new RpcError(ErrorCode.InvalidParams, "Invalid params")), "info");
 * assert.equal(levelOf(new RpcError(4, "Cannot divide by 0")), "info"); // an answer chosen on purpose
 * assert.equal(levelOf(new RpcError(ErrorCode.ServerBusy, "Server busy")), "warn");
 * assert.equal(levelOf(new TypeError("x is undefined")), "error"); // a handler's bug
 * ```
 */
export function levelOf(error: unknown): LogLevel {
  if (error instanceof RpcError) {
    if (error.code === ErrorCode.InternalError) return "error";
    return error.code === ErrorCode.ServerBusy ? "warn" : "info";
  }
  if (error instanceof ConnectionClosedError) return "debug";
  if (
    error instanceof ProtocolError || error instanceof DecodeError ||
    error instanceof FrameSizeError || error instanceof LimitError ||
    error instanceof TimeoutError
  ) return "info";
  return "error";
}

/**
 * An error as fields: its name, message, and the code and data of an
 * `RpcError`; the stack for the server's own faults (those at `error`).
 *
 * @param error anything thrown
 * @returns the fields to log it with
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorFields } from "./logging.ts";
 * import { RpcError } from "./errors.ts";
 *
 * assert.deepEqual(errorFields(new RpcError(4, "Cannot divide by 0", { what: 4 })), {
 *   error: "RpcError",
 *   message: "Cannot divide by 0",
 *   code: 4,
 *   data: { what: 4 },
 * });
 * assert.equal(errorFields("plain").message, "plain");
 * ```
 */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: typeof error, message: String(error) };
  const fields: Record<string, unknown> = { error: error.name, message: error.message };
  if (error instanceof RpcError) {
    fields.code = error.code;
    if (error.data !== undefined) fields.data = error.data;
  }
  if (levelOf(error) === "error" && error.stack !== undefined) fields.stack = error.stack;
  if (error.cause !== undefined) fields.cause = String(error.cause);
  return fields;
}

/**
 * An `onError` hook (of a `Peer`, a server, a handler) that logs what it is
 * told at the level {@linkcode levelOf} gives. An error that a
 * {@linkcode logging} interceptor has already logged (a handler's fault,
 * which the server's hook hears of too) is not logged again.
 *
 * @param logger where records go
 * @param fields added to every record (the server's name, say)
 * @returns the hook
 *
 * @example A bad frame is the client's mistake: logged at `info`
 * ```ts
 * import assert from "node:assert/strict";
 * import { logErrors } from "./logging.ts";
 * import { ProtocolError } from "./errors.ts";
 *
 * const seen: string[] = [];
 * const record = (level: string) => (message: string) => void seen.push(`${level} ${message}`);
 * const logger = { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
 * const onError = logErrors(logger);
 * onError(new ProtocolError("Invalid message"));
 * onError(new TypeError("boom"));
 * assert.deepEqual(seen, ["info Invalid message", "error boom"]);
 * ```
 */
export function logErrors(logger: Logger, fields?: LogFields): (error: unknown) => void {
  return (error) => {
    if (typeof error === "object" && error !== null && LOGGED.has(error)) return;
    const described = errorFields(error);
    logger[levelOf(error)](String(described.message), { ...fields, ...described });
  };
}

/** Options of {@linkcode logging}. */
export interface LoggingOptions {
  /** Added to every record. */
  readonly fields?: LogFields;
  /** Log each call's params and result at `debug` too; off by default (they may hold secrets). */
  readonly values?: boolean;
  /**
   * Log the calls that succeed (at `debug`); true by default. False saves
   * building their records when the logger drops `debug` anyway.
   */
  readonly calls?: boolean;
}

/**
 * An interceptor that logs each call once it has ended: at `debug` when it
 * succeeds, at the level of its error ({@linkcode levelOf}) when it fails,
 * with its side, kind, method and duration in milliseconds. Install it
 * first in a chain to time everything after it.
 *
 * @param logger where records go
 * @param options fields added to every record; whether to log values
 * @returns the interceptor
 *
 * @example Calls at debug, a client's mistake at info, a handler's fault at error
 * ```ts
 * import assert from "node:assert/strict";
 * import { logging } from "./logging.ts";
 * import { Peer } from "./peer.ts";
 * import { RpcError } from "./errors.ts";
 * import { memoryPair } from "./testing.ts";
 * import { jsonRpc } from "../codecs/json_rpc.ts";
 *
 * const seen: string[] = [];
 * const record = (level: string) => (message: string, fields?: Record<string, unknown>) =>
 *   void seen.push(`${level} ${message} ${fields?.method}`);
 * const logger = { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
 * const service = {
 *   add: (a: number, b: number) => a + b,
 *   divide: (a: number, b: number) => {
 *     if (b === 0) throw new RpcError(4, "Cannot divide by 0");
 *     return a / b;
 *   },
 *   broken: () => {
 *     throw new TypeError("a bug");
 *   },
 * };
 * const [a, b] = memoryPair();
 * const server = new Peer(a, { codec: jsonRpc(), service, interceptors: [logging(logger)] });
 * const client = new Peer(b, { codec: jsonRpc() });
 * await client.call("add", [1, 2]);
 * await assert.rejects(client.call("divide", [1, 0]));
 * await assert.rejects(client.call("broken"));
 * await client.close();
 * await server.closed;
 * assert.deepEqual(seen, ["debug call add", "info Cannot divide by 0 divide", "error a bug broken"]);
 * ```
 */
export function logging(logger: Logger, options: LoggingOptions = {}): Interceptor {
  const { fields, values = false, calls = true } = options;
  // The record's fields, built only when a record is written.
  const record = (call: InterceptedCall, started: number): Record<string, unknown> => ({
    ...fields,
    side: call.side,
    kind: call.kind,
    method: call.method,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
    ...(values ? { params: call.params } : {}),
  });
  return (next) => async (call) => {
    const started = performance.now();
    try {
      const result = await next(call);
      if (calls) {
        logger.debug(call.kind, {
          ...record(call, started),
          outcome: "ok",
          ...(values && call.kind === "call" ? { result } : {}),
        });
      }
      return result;
    } catch (error) {
      if (typeof error === "object" && error !== null) LOGGED.add(error);
      const described = errorFields(error);
      logger[levelOf(error)](String(described.message), {
        ...record(call, started),
        outcome: "error",
        ...described,
      });
      throw error;
    }
  };
}

/** Options of {@linkcode lineLogger}. */
export interface LineLoggerOptions {
  /** The least level written; `info` by default. */
  readonly level?: LogLevel;
  /** One JSON object per line (the default), or `level message key=value…` for people. */
  readonly format?: "json" | "text";
  /** Added to every record. */
  readonly fields?: LogFields;
  /** The clock, for the `time` field; `Date.now` by default. */
  readonly now?: () => number;
}

/**
 * A logger that writes one line per record at `level` or above: JSON
 * (`{"time","level","msg",…fields}`) or text. Errors, bigints and other
 * values JSON lacks are written as text, so that no record can throw.
 *
 * @param write takes each line, without its newline (`console.error`, a file's writer…)
 * @param options the least level, the format, fields for every record
 * @returns the logger
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lineLogger } from "./logging.ts";
 *
 * const lines: string[] = [];
 * const logger = lineLogger((line) => lines.push(line), { now: () => 0 });
 * logger.debug("not written: below info");
 * logger.info("Invalid params", { method: "add", code: -32602, big: 2n ** 64n });
 * assert.deepEqual(JSON.parse(lines[0]!), {
 *   time: "1970-01-01T00:00:00.000Z",
 *   level: "info",
 *   msg: "Invalid params",
 *   method: "add",
 *   code: -32602,
 *   big: "18446744073709551616",
 * });
 * assert.equal(lines.length, 1);
 * ```
 */
export function lineLogger(write: (line: string) => void, options: LineLoggerOptions = {}): Logger {
  const least = RANK[options.level ?? "info"];
  const now = options.now ?? Date.now;
  const text = options.format === "text";
  const at = (level: LogLevel) => (message: string, fields?: LogFields): void => {
    if (RANK[level] < least) return;
    const all = { ...options.fields, ...fields };
    if (text) {
      const pairs = Object.entries(all).map(([key, value]) => `${key}=${plain(value)}`);
      write([level.toUpperCase().padEnd(5), message, ...pairs].join(" "));
    } else {
      const record = { time: new Date(now()).toISOString(), level, msg: message, ...all };
      write(JSON.stringify(record, (_key, value) => jsonSafe(value)));
    }
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

// A value JSON.stringify would throw on or lose, as text.
function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

// A field's value for the text format: strings as they are unless they need quotes.
function plain(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  try {
    return JSON.stringify(value, (_key, v) => jsonSafe(v)) ?? String(value);
  } catch {
    return String(value);
  }
}
