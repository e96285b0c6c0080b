/**
 * The calculator over protobuf: `calculator.proto` (a copy of the interop
 * contract's) loaded at run time, and the service of `service.ts` served
 * under the `.proto` file's methods, so that every codec shares one
 * implementation.
 *
 * @module
 */

import { loadProto, type ProtoSchema, protoService } from "../../codecs/protobuf.ts";
import { type Service, withContext } from "../../mod.ts";
import { createDispatcher } from "../../rpc/plumbing.ts";
import type { CallContext } from "../../mod.ts";
import { createCalculator } from "./service.ts";
import { type NumberMessage, range, type RangeRequest, running, total } from "./streams.ts";

/** The contract's `.proto` files, next to this module. */
export const PROTO_DIR: string = new URL(".", import.meta.url).pathname;

/** The calculator's schema, from `calculator.proto`. */
export function calculatorSchema(): ProtoSchema {
  return loadProto({
    "calculator.proto": Deno.readTextFileSync(new URL("./calculator.proto", import.meta.url)),
  });
}

/** The detail type that InvalidOperation's data travels as. */
export const ERROR_DETAILS = "interop.InvalidOperation";

type Message = Record<string, unknown>;

/**
 * The calculator as the protobuf service `interop.Calculator`: each method
 * unpacks its request message into the calculator's params and wraps the
 * result in its reply message.
 *
 * @param schema the calculator's schema
 * @returns the service to serve, keyed by wire name
 */
export function protobufCalculator(schema: ProtoSchema): Service {
  const dispatch = createDispatcher(createCalculator({ int64: "full" }));
  const call = (name: string, params: unknown[], ctx: CallContext) =>
    dispatch(name)!.invoke(params, ctx);
  const method = (fn: (request: Message, ctx: CallContext) => unknown) =>
    withContext((ctx: CallContext, request: Message) => fn(request, ctx));
  return protoService(schema, "interop.Calculator", {
    Ping: method(() => ({})),
    Add: method(async ({ num1, num2 }, ctx) => ({ sum: await call("add", [num1, num2], ctx) })),
    Calculate: method(async ({ logid, w }, ctx) => {
      // An absent Work is all zeros: op 0 is not an operation.
      const { comment, ...work } = (w ?? { num1: 0, num2: 0, op: 0 }) as Message;
      const args = comment === undefined ? work : { ...work, comment };
      return { value: await call("calculate", [logid, args], ctx) };
    }),
    Echo: method(async ({ text }, ctx) => ({ text: await call("echo", [text], ctx) })),
    EchoBinary: method(async ({ data }, ctx) => ({ data: await call("echoBinary", [data], ctx) })),
    // The message's types are the check here: coords may hold NaN and ±Infinity,
    // which the zod schema of JSON's numbers refuses.
    EchoShape: method((shape) => shape),
    Sum: method(async ({ values }, ctx) => ({ total: await call("sum", [values], ctx) })),
    Zip: method(() => ({})),
    // Streaming: over the envelope on TCP and WebSocket (see streams.ts).
    Range: (request: RangeRequest, ctx: CallContext) => range(request, ctx),
    Total: (numbers: AsyncIterable<NumberMessage>) => total(numbers),
    Running: (numbers: AsyncIterable<NumberMessage>) => running(numbers),
  });
}
