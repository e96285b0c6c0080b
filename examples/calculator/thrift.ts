/**
 * The calculator over Thrift: `calculator.thrift` (a copy of the interop
 * contract's) loaded at run time, served by the calculator of `service.ts`.
 *
 * @module
 */

import { loadThrift, type ThriftSchema } from "../../codecs/thrift.ts";
import { combineServices, type Service } from "../../mod.ts";
import { createCalculator, INVALID_OPERATION } from "./service.ts";

/** The calculator's schema, from `calculator.thrift`. */
export function calculatorThrift(): ThriftSchema {
  return loadThrift({
    "calculator.thrift": Deno.readTextFileSync(new URL("./calculator.thrift", import.meta.url)),
  });
}

/**
 * How a declared InvalidOperation becomes the caller's error: code 1 and
 * message `why` (its fields are the error's data), as every other codec of
 * the calculator has them.
 */
export function invalidOperationError(
  _exception: string,
  fields: Record<string, unknown>,
): { code: number; message: string } {
  return { code: INVALID_OPERATION, message: String(fields.why ?? "") };
}

/**
 * The calculator as Thrift serves it: the zod service, but `echoShape`
 * returns the Shape as it arrived (the IDL's types checked it; coords may
 * hold NaN and ±Infinity, which the zod schema of JSON's numbers refuses).
 *
 * @returns the service
 */
export function thriftCalculator(): Service {
  return combineServices(
    { echoShape: (shape: unknown) => shape },
    createCalculator({ int64: "full" }),
  );
}
