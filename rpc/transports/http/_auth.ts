// What `authenticate` and the `context` option decide about one HTTP
// request or WebSocket handshake: refused (with its status), or admitted
// with the connection's scope (its principal and context).

import type { Connection, ConnectionScope, ContextFunction } from "../../connection.ts";

/**
 * Decides whether a request may go on: `false`, `null`, `undefined` (any
 * falsy value) refuses; `true` admits; any other value admits and is the
 * principal, which handlers read with `principalOf(ctx)`.
 */
export type Authenticate = (request: Request) => unknown;

/** A request refused: its status and the text of the answer. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly text: string;
}

/**
 * Runs `authenticate` then `context` for a request; a refusal when either
 * refuses. What `context` throws is a 401, or a 403 when it has
 * `status: 403` (an authenticated caller that may not come in).
 */
export async function admit(
  request: Request,
  connection: Connection,
  authenticate: Authenticate | undefined,
  context: ContextFunction | undefined,
  onError: (error: unknown) => void,
): Promise<ConnectionScope | Refusal> {
  let principal: unknown;
  if (authenticate !== undefined) {
    const verdict = await authenticate(request);
    if (!verdict) return { status: 401, text: "Unauthorized" };
    if (verdict !== true) principal = verdict;
  }
  const scope = principal === undefined ? { connection } : { connection, principal };
  if (context === undefined) return scope;
  try {
    return { ...scope, context: await context(connection, request) };
  } catch (error) {
    onError(error);
    const status = (error as { status?: unknown } | null)?.status === 403 ? 403 : 401;
    return { status, text: status === 403 ? "Forbidden" : "Unauthorized" };
  }
}

/** Whether `admit` refused. */
export function refused(outcome: ConnectionScope | Refusal): outcome is Refusal {
  return "status" in outcome;
}
