// `parley call rpyc://HOST:PORT METHOD ARGS...`: a call on a Python RPyC
// service's root (`conn.root.add(1, 2)`), or with --classic on a module
// function of a SlaveService (`math.sqrt`), the result printed as Python
// would print its repr (the values brine carries exactly; other objects by
// their remote repr).

import { Float } from "../rpc/float.ts";
import {
  Complex,
  connectRpyc,
  connectRpycClassic,
  Ellipsis,
  FrozenSet,
  kw,
  netrefOf,
  NotImplemented,
  type RemoteObject,
  RpycError,
  Slice,
} from "../rpc/transports/rpyc.ts";
import { type Endpoint, UsageError } from "./endpoint.ts";
import { paramsOf } from "./values.ts";

/** `parley help call`'s words on rpyc:// (and the --classic option). */
export const RPYC_HELP =
  `  --classic            rpyc:// to a classic server (SlaveService): METHOD is MODULE.FUNCTION,
                       imported there (remote code execution: only servers you trust)

rpyc:// calls conn.root.METHOD(ARGS) on a Python RPyC service (a dotted METHOD
walks attributes; key=value pairs are keyword arguments, arrays tuples, 2.0 a
float) and prints the result as Python's repr; a Python exception prints its
type, message and remote traceback, exit status 1.`;

/** What `parley call rpyc://…` was given. */
export interface RpycCall {
  readonly method: string;
  readonly args: readonly string[];
  readonly classic: boolean;
  readonly timeout?: number | undefined;
}

/**
 * Makes the call and prints its result (stdout) or Python's exception
 * (stderr).
 *
 * @returns the exit status: 0, or 1 when Python raised
 */
export async function callRpyc(
  endpoint: Endpoint,
  command: string,
  call: RpycCall,
  print: (text: string) => void = console.log,
): Promise<number> {
  if (endpoint.kind !== "rpyc" || command !== "call") {
    throw new UsageError("rpyc:// takes call (not list or notify); --classic takes an rpyc:// URL");
  }
  // Arrays are tuples, `2.0` a float, key=value pairs keyword arguments.
  const params = paramsOf(call.args, true);
  const args = params === undefined
    ? []
    : Array.isArray(params)
    ? params
    : [kw(params as Record<string, unknown>)];
  const address = { hostname: endpoint.hostname, port: endpoint.port };
  const options = call.timeout === undefined ? {} : { timeout: call.timeout };
  const path = call.method.split(".");
  if (path.some((name) => !/^[A-Za-z_]\w*$/.test(name))) {
    throw new UsageError(`"${call.method}" is not a dotted Python name such as add or math.sqrt`);
  }
  if (call.classic && path.length < 2) {
    throw new UsageError(
      `--classic calls MODULE.FUNCTION, such as math.sqrt, not "${call.method}"`,
    );
  }
  await using conn = call.classic
    ? await connectRpycClassic(address, options)
    : await connectRpyc(address, options);
  // Classic: the module is the first name (`os.path.join`: os, then .path.join).
  const target = call.classic
    ? (conn as Awaited<ReturnType<typeof connectRpycClassic>>).modules[path[0]!]!
    : conn.root as RemoteObject;
  let fn = target as unknown as Record<string, unknown>;
  for (const name of call.classic ? path.slice(1) : path) {
    fn = fn[name] as Record<string, unknown>;
  }
  try {
    const result = await (fn as unknown as (...a: unknown[]) => Promise<unknown>)(...args);
    print(await pythonRepr(result));
    return 0;
  } catch (error) {
    if (!(error instanceof RpycError)) throw error;
    console.error(`${error.pythonType}: ${error.args.map((a) => pyText(a)).join(", ")}`);
    if (error.traceback !== "") console.error(error.traceback.trimEnd());
    return 1;
  }
}

// An exception's argument as Python's str(exception) shows it.
function pyText(value: unknown): string {
  return typeof value === "string" ? value : reprOf(value, []);
}

/**
 * A result as Python's `repr` shows it: `3`, `1.4142135623730951`, `'text'`,
 * `b'\x00'`, `(1, 2)`, `None`, `True`; a remote object by its own repr
 * (one REPR request), then released.
 */
export async function pythonRepr(value: unknown): Promise<string> {
  const remote: string[] = [];
  const refs = new Map<unknown, number>();
  const collect = (v: unknown) => {
    if (netrefOf(v) !== undefined && !refs.has(v)) refs.set(v, refs.size);
    else if (Array.isArray(v)) v.forEach(collect);
  };
  collect(value);
  for (const ref of refs.keys()) {
    const netref = netrefOf(ref)!;
    remote.push(await netref.repr());
    await netref.release();
  }
  return reprOf(value, remote, refs);
}

function reprOf(value: unknown, remote: string[], refs = new Map<unknown, number>()): string {
  const inner = (v: unknown) => reprOf(v, remote, refs);
  if (refs.has(value)) return remote[refs.get(value)!]!;
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : floatRepr(value);
  if (typeof value === "bigint") return String(value);
  if (value instanceof Float) return floatRepr(value.value);
  if (typeof value === "string") return strRepr(value);
  if (value instanceof Uint8Array) return bytesRepr(value);
  if (Array.isArray(value)) {
    return value.length === 1 ? `(${inner(value[0])},)` : `(${value.map(inner).join(", ")})`;
  }
  if (value instanceof FrozenSet) {
    return value.items.length === 0
      ? "frozenset()"
      : `frozenset({${value.items.map(inner).join(", ")}})`;
  }
  if (value instanceof Slice) {
    return `slice(${inner(value.start)}, ${inner(value.stop)}, ${inner(value.step)})`;
  }
  if (value instanceof Complex) return complexRepr(value);
  if (value === Ellipsis) return "Ellipsis";
  if (value === NotImplemented) return "NotImplemented";
  return String(value);
}

/**
 * A double as Python's `repr(float)`: the shortest digits that round-trip
 * (as JavaScript's), positional from 1e-4 up to below 1e16, otherwise
 * `d.ddde+XX`; `nan`, `inf`, `-0.0`.
 */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exp] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const point = Number(exp) + 1; // digits before the decimal point
  const sign = x < 0 ? "-" : "";
  if (point > -4 && point <= 16) {
    if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  const e = point - 1;
  const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

function complexRepr(z: Complex): string {
  const part = (v: number) => {
    const text = floatRepr(v);
    return text.endsWith(".0") ? text.slice(0, -2) : text;
  };
  const imag = `${part(z.imag)}j`;
  if (z.real === 0 && !Object.is(z.real, -0)) return imag;
  return `(${part(z.real)}${imag.startsWith("-") ? "" : "+"}${imag})`;
}

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function strRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote) out += `\\${ch}`;
    else if (ESCAPES[ch] !== undefined) out += ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

function bytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const quote = hasSingle && !bytes.includes(0x22) ? '"' : "'";
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ESCAPES[ch] !== undefined) out += ESCAPES[ch];
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `b${quote}${out}${quote}`;
}
