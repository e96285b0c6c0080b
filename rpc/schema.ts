/**
 * What parley needs of a schema and of a schema-defined method: types only,
 * shared by the services (`service.ts`), the dispatcher and the checks a
 * definition carries (`schema_checks.ts`), so that none imports another for
 * its types.
 *
 * @module
 */

import type { RpcId } from "./types.ts";

/** Why a value does not match a schema (zod's `ZodError` fits). */
export interface SchemaError {
  /** What is wrong, one issue per problem. */
  readonly issues: readonly unknown[];
  /** The issues as text. */
  readonly message: string;
}

/** The outcome of {@linkcode Schema.safeParse}. */
export type SchemaResult<O> =
  | { readonly success: true; readonly data: O }
  | { readonly success: false; readonly error: SchemaError };

/**
 * What parley needs of a schema: zod 4's own shape, so that any zod schema
 * fits without parley's public types naming zod's.
 *
 * @typeParam I what the schema accepts
 * @typeParam O what parsing produces
 */
export interface Schema<I = unknown, O = unknown> {
  /** zod's type carrier: the schema's input and output types. */
  readonly _zod: { readonly input: I; readonly output: O };
  /** Checks a value, without throwing. */
  safeParse(value: unknown): SchemaResult<O>;
}

/** A schema of positional params: a zod tuple. */
export interface TupleSchema<
  I extends readonly unknown[] = readonly unknown[],
  O extends readonly unknown[] = readonly unknown[],
> extends Schema<I, O> {
  /** zod's definition, whose items give the tuple's length. */
  readonly def: { readonly items: readonly unknown[] };
}

/** What a schema accepts. */
export type InputOf<S extends Schema> = S["_zod"]["input"];
/** What a schema produces. */
export type OutputOf<S extends Schema> = S["_zod"]["output"];

/** What a handler knows about the call it is handling. */
export interface CallContext {
  /** The request's id; `undefined` for a notification. */
  readonly id: RpcId | undefined;
  /** The method's name as it arrived. */
  readonly method: string;
  /** Fires when the caller cancels, or when the connection drops. */
  readonly signal: AbortSignal;
  /**
   * The caller's stream of messages, for a streaming call on a peer whose
   * codec carries streams (`CodecFeatures.streams`); absent otherwise.
   */
  readonly input?: AsyncIterable<unknown>;
}

/** Any method definition, whatever its schemas: what services are made of. */
export interface AnyMethodDefinition {
  /** The positional params, as a zod tuple. */
  readonly params: TupleSchema;
  /** Names of the positional params, in order, so that named params work too. */
  readonly names?: readonly string[];
  /** The result's schema. */
  readonly result: Schema;
  /** A line for humans (introspection, OpenRPC). */
  readonly description?: string;
  /** The handler: validated params, then the call context. */
  readonly handler: (...args: never[]) => unknown;
}

/** A handler that the dispatcher found: how to call it and what it checks. */
export interface ResolvedMethod {
  /** Calls the handler with the raw params; throws RpcError(-32602) on bad params. */
  invoke(params: unknown, ctx: CallContext): unknown;
  /** The zod definition, when the service has one. */
  readonly definition?: AnyMethodDefinition;
}
