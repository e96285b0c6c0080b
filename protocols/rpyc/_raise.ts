// What a TypeScript error becomes on the Python side: vinegar's exception
// tuple, with a Python built-in type when the error maps to one (TypeError,
// RangeError → ValueError, an error whose `name` or `pythonType` is a
// built-in exception's name), else `parley.<ErrorName>`, which Python
// rebuilds as a GenericException of that name. The message travels; so
// does the TypeScript stack, as the "remote traceback" Python shows.

import type { BrineValue } from "./brine.ts";
import { EXC_STOP_ITERATION } from "./messages.ts";

/** An error raised as the Python built-in exception `pythonType`. */
export class PythonException extends Error {
  /** The Python exception's name, such as `KeyError`. */
  readonly pythonType: string;
  /**
   * @param pythonType a Python built-in exception's name
   * @param message its message
   */
  constructor(pythonType: string, message: string) {
    super(message);
    this.name = pythonType;
    this.pythonType = pythonType;
  }
}

const BUILTINS = new Set([
  "ArithmeticError",
  "AssertionError",
  "AttributeError",
  "BufferError",
  "ConnectionError",
  "EOFError",
  "Exception",
  "FileExistsError",
  "FileNotFoundError",
  "IndexError",
  "KeyError",
  "LookupError",
  "MemoryError",
  "NameError",
  "NotImplementedError",
  "OSError",
  "OverflowError",
  "PermissionError",
  "RecursionError",
  "RuntimeError",
  "StopIteration",
  "TimeoutError",
  "TypeError",
  "UnicodeError",
  "ValueError",
  "ZeroDivisionError",
]);

const BY_JS_NAME: Record<string, string> = {
  RangeError: "ValueError",
  SyntaxError: "ValueError",
  ReferenceError: "NameError",
  LimitError: "ValueError",
  DecodeError: "ValueError",
};

/**
 * The payload of the exception reply for `error`; its TypeScript stack
 * goes as the remote traceback only with `withStack` (a stack names the
 * files of the side that threw).
 */
export function toVinegar(error: unknown, withStack = false): BrineValue {
  const e = error instanceof Error ? error : new Error(String(error));
  const declared = (e as { pythonType?: unknown }).pythonType;
  const name = typeof declared === "string" && BUILTINS.has(declared)
    ? declared
    : BUILTINS.has(e.name)
    ? e.name
    : BY_JS_NAME[e.name];
  if (name === "StopIteration") return EXC_STOP_ITERATION;
  const module = name === undefined ? "parley" : "builtins";
  const type = name ?? (/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name) ? e.name : "Error");
  const traceback = withStack
    ? `TypeScript stack (parley):\n${e.stack ?? `${e.name}: ${e.message}`}\n`
    : `TypeScript error (parley; its stack is sent with includeLocalTraceback):\n${e.name}: ${e.message}\n`;
  return [[module, type], [e.message], [["_remote_version", "<version denied>"]], traceback];
}
