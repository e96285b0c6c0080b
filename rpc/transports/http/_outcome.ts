/**
 * What an HTTP reply means for the calls its POST carried.
 *
 * @module
 */

import { ProtocolError, RpcError } from "../../errors.ts";
import type { DecodedFrame, RpcId, RpcMessage } from "../../types.ts";

/**
 * The call's outcome in an HTTP reply: its result, or the error it is
 * answered with.
 *
 * @param reply the decoded reply; `undefined` when there was none
 * @param id the call's id
 * @param remote the endpoint, for error messages
 * @returns the call's result
 * @throws {RpcError} the error the call is answered with
 * @throws {ProtocolError} a reply that does not answer the call
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callOutcome } from "./_outcome.ts";
 *
 * const reply = { kind: "result", id: 1, result: 3 } as const;
 * assert.equal(callOutcome(reply, 1, "http://127.0.0.1/rpc"), 3);
 * assert.throws(() => callOutcome(reply, 2, "http://127.0.0.1/rpc"), /did not answer call 2/);
 * ```
 */
export function callOutcome(reply: DecodedFrame | undefined, id: RpcId, remote: string): unknown {
  const messages = reply === undefined ? [] : reply.kind === "batch" ? reply.messages : [reply];
  let general: RpcError | undefined;
  for (const message of messages) {
    if (message.kind === "result" && message.id === id) return message.result;
    if (message.kind === "error") {
      if (message.id === id) throw RpcError.from(message.error);
      if (message.id === null) general = RpcError.from(message.error);
    }
    if (message.kind === "invalid" && message.inReplyTo === id) {
      throw new ProtocolError(
        `The reply from ${remote} is malformed: ${message.error.message}`,
      );
    }
  }
  throw new ProtocolError(
    `The reply from ${remote} did not answer call ${JSON.stringify(id)}`,
    general === undefined ? undefined : { cause: general },
  );
}

/**
 * The outcome of each message of a batch sent in one POST, in order: a
 * call's as {@linkcode callOutcome} finds it in the reply, `undefined` for
 * a notification.
 *
 * @param messages the batch's messages
 * @param reply the decoded reply; `undefined` when there was none
 * @param remote the endpoint, for error messages
 * @returns each message's outcome
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchOutcomes } from "./_outcome.ts";
 *
 * const [call, note] = batchOutcomes(
 *   [{ kind: "request", id: 1, method: "add" }, { kind: "notification", method: "log" }],
 *   { kind: "result", id: 1, result: 3 },
 *   "http://127.0.0.1/rpc",
 * );
 * assert.deepEqual(call, { status: "fulfilled", value: 3 });
 * assert.deepEqual(note, { status: "fulfilled", value: undefined });
 * ```
 */
export function batchOutcomes(
  messages: readonly RpcMessage[],
  reply: DecodedFrame | undefined,
  remote: string,
): PromiseSettledResult<unknown>[] {
  return messages.map((message): PromiseSettledResult<unknown> => {
    if (message.kind !== "request") return { status: "fulfilled", value: undefined };
    try {
      return { status: "fulfilled", value: callOutcome(reply, message.id, remote) };
    } catch (error) {
      return { status: "rejected", reason: error };
    }
  });
}

/**
 * What to report when a notification's POST got a reply body.
 *
 * @param reply the decoded reply
 * @param remote the endpoint, for error messages
 * @returns the error it carries, or a `ProtocolError` saying what came
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unexpectedReply } from "./_outcome.ts";
 *
 * const error = unexpectedReply({ kind: "result", id: 1, result: 3 }, "http://127.0.0.1/rpc");
 * assert.match(error.message, /answered a notification with a result message/);
 * ```
 */
export function unexpectedReply(reply: DecodedFrame, remote: string): Error {
  const first = reply.kind === "batch" ? reply.messages[0] : reply;
  return first?.kind === "error"
    ? RpcError.from(first.error)
    : new ProtocolError(`${remote} answered a notification with a ${first?.kind} message`);
}
