/**
 * `parley`: call, list and serve RPC services from a terminal, over every
 * codec and transport parley has.
 *
 * ```sh
 * deno task rpc call tcp://127.0.0.1:4000 add 1 2
 * deno task rpc list http://127.0.0.1:4000/RPC2 --codec xmlrpc
 * deno task rpc serve ./service.ts --transport http --port 4000
 * deno install -g -n parley --allow-net --allow-read --allow-write --allow-run --allow-env cli/main.ts
 * ```
 *
 * Exit status: 0 done, 1 the call failed (the server's error; for Connect
 * also a reply that is not a Connect reply, such as a gRPC server's, which
 * the Connect client reports as a ConnectError), 2 a usage error, 3 the
 * transport failed (cannot connect, connection lost, no HTTP reply), 4 a
 * timeout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";
import { RpcError, TimeoutError } from "../rpc/errors.ts";
import type { RpcParams } from "../rpc/types.ts";
import { type CodecName, CODECS, openClient } from "./client.ts";
import { describe } from "./describe.ts";
import { HELP } from "./help.ts";
import { callRpyc } from "./rpyc.ts";
import { parseEndpoint, UsageError } from "./endpoint.ts";
import { protoParams, thriftParams } from "./schema_values.ts";
import { serve } from "./serve.ts";
import { paramsOf, toJson } from "./values.ts";

const red = (text: string) => Deno.stderr.isTerminal() ? `\x1b[31m${text}\x1b[0m` : text;
const dim = (text: string) => Deno.stderr.isTerminal() ? `\x1b[2m${text}\x1b[0m` : text;

/** Reads `--proto`/`--thrift` files, with the files they import from next to them. */
function readIdl(files: readonly string[]): Record<string, string> {
  const sources: Record<string, string> = {};
  const IMPORT = /^\s*(?:import|include)\s+(?:weak\s+|public\s+)?"([^"]+)"/gm;
  const read = (name: string, path: string) => {
    if (name in sources) return;
    try {
      sources[name] = Deno.readTextFileSync(path);
    } catch (error) {
      throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`);
    }
    for (const [, imported] of sources[name]!.matchAll(IMPORT)) {
      if (imported!.startsWith("google/protobuf/")) continue;
      try {
        Deno.statSync(join(dirname(path), imported!));
        read(imported!, join(dirname(path), imported!));
      } catch {
        // Left to the schema loader, which says what is missing.
      }
    }
  };
  for (const file of files) read(file.split("/").pop()!, file);
  return sources;
}

// A spinner with the elapsed time on stderr once a call takes longer than a
// second (on a terminal only), and the time it took when it did.
function spinner(enabled: boolean): () => void {
  if (!enabled || !Deno.stderr.isTerminal()) return () => {};
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  const encoder = new TextEncoder();
  const started = performance.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  const start = setTimeout(() => {
    let i = 0;
    timer = setInterval(() => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      Deno.stderr.writeSync(encoder.encode(`\r${frames[i++ % frames.length]} ${seconds} s`));
    }, 100);
  }, 1000);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(start);
    clearInterval(timer);
    if (timer !== undefined) {
      Deno.stderr.writeSync(encoder.encode(`\r${" ".repeat(20)}\r`));
      console.error(dim(`(${((performance.now() - started) / 1000).toFixed(1)} s)`));
    }
  };
}

// The options and positionals of a command. Negative numbers are values,
// not options (`add -1 2`), and a malformed command line is a usage error.
function parseOptions(args: readonly string[]) {
  const NEGATIVE = /^-(\d|\.\d|Infinity$)/;
  const shielded = args.map((arg, i) => NEGATIVE.test(arg) ? `\u0000${i}` : arg);
  try {
    const parsed = parseArgs({
      args: shielded,
      allowPositionals: true,
      options: {
        codec: { type: "string", default: "jsonrpc" },
        framing: { type: "string" },
        header: { type: "string", multiple: true },
        timeout: { type: "string" },
        proto: { type: "string", multiple: true },
        thrift: { type: "string", multiple: true },
        protocol: { type: "string" },
        service: { type: "string" },
        ca: { type: "string", multiple: true },
        json: { type: "boolean", default: false },
        classic: { type: "boolean", default: false },
        transport: { type: "string", default: "tcp" },
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "0" },
        path: { type: "string" },
        help: { type: "boolean", default: false },
      },
    });
    const restore = (arg: string) => arg.startsWith("\u0000") ? args[Number(arg.slice(1))]! : arg;
    const values = parsed.values;
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === "string") (values as Record<string, unknown>)[name] = restore(value);
      else if (Array.isArray(value)) (values as Record<string, unknown>)[name] = value.map(restore);
    }
    return { values, positionals: parsed.positionals.map(restore) };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(HELP[rest[0] ?? "main"] ?? HELP.main);
    return command === undefined ? 2 : 0;
  }
  if (!(command in HELP)) {
    throw new UsageError(`Unknown command "${command}": try call, notify, list, serve or help`);
  }
  const { values, positionals } = parseOptions(rest);
  if (values.help) {
    console.log(HELP[command]);
    return 0;
  }
  const codec = values.codec as CodecName;
  if (!CODECS.includes(codec)) {
    throw new UsageError(`Unknown codec "${values.codec}": use ${CODECS.join(", ")}`);
  }
  if (command === "serve") {
    const [module] = positionals;
    if (module === undefined) {
      throw new UsageError("serve needs a module: parley serve ./service.ts");
    }
    return await serve(resolve(module), {
      codec,
      transport: values.transport,
      host: values.host,
      port: Number(values.port),
      ...(values.path === undefined ? {} : { path: values.path }),
      ...(values.framing === undefined ? {} : { framing: values.framing }),
    });
  }

  const [url, method, ...args] = positionals;
  if (url === undefined) {
    throw new UsageError(`${command} needs a URL: parley ${command} tcp://127.0.0.1:4000 ...`);
  }
  if (command !== "list" && method === undefined) {
    throw new UsageError(`${command} needs a method: parley ${command} ${url} METHOD [ARGS...]`);
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) {
    throw new UsageError("--timeout takes milliseconds > 0");
  }
  if (
    values.protocol !== undefined && values.protocol !== "binary" && values.protocol !== "compact"
  ) {
    throw new UsageError("--protocol is binary or compact");
  }
  const headers: Record<string, string> = {};
  for (const header of values.header ?? []) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header "${header}" is not "Name: value"`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  const endpoint = parseEndpoint(url);
  if (endpoint.kind === "rpyc" || values.classic) {
    const call = { method: method!, args, classic: values.classic, timeout };
    return await callRpyc(endpoint, command, call);
  }
  const client = await openClient(endpoint, {
    codec,
    framing: values.framing,
    headers,
    timeout,
    proto: values.proto === undefined ? undefined : readIdl(values.proto),
    thrift: values.thrift === undefined ? undefined : readIdl(values.thrift),
    protocol: values.protocol as "binary" | "compact" | undefined,
    service: values.service,
    caCerts: values.ca?.map((file) => {
      try {
        return Deno.readTextFileSync(file);
      } catch (error) {
        throw new UsageError(`Cannot read --ca ${file}: ${(error as Error).message}`);
      }
    }),
  });
  const stop = spinner(!values.json);
  try {
    if (command === "list") {
      const description = await describe(client, codec);
      stop();
      if (values.json) {
        console.log(toJson(description.document, 0));
      } else {
        console.log(dim(`# ${description.methods.length} methods, from ${description.source}`));
        for (const m of description.methods) {
          const line = `${m.name}(${m.params.join(", ")}) → ${m.result}`;
          console.log(m.description === undefined ? line : `${line}\n    ${m.description}`);
        }
      }
      return 0;
    }
    // Without an IDL, JSON's missing types (doubles, bytes) can be written out.
    const schemaLess = client.protoSchema === undefined && client.thriftSchema === undefined;
    let params = paramsOf(args, schemaLess) as RpcParams | undefined;
    if (client.protoSchema !== undefined) params = protoParams(client.protoSchema, method!, params);
    if (client.thriftSchema !== undefined) {
      params = thriftParams(client.thriftSchema, method!, params);
    }
    if (command === "notify") {
      await client.notify(method!, params);
      stop();
      return 0;
    }
    const found = client.protoSchema?.method(method!);
    if (found?.clientStreaming) {
      throw new UsageError(
        `${method} takes a stream of ${found.request.name} messages: parley call sends one`,
      );
    }
    if (found?.serverStreaming && client.stream !== undefined) {
      // One JSON line per message, as they come.
      for await (const message of client.stream(method!, params)) {
        stop();
        console.log(toJson(message, 0));
      }
      stop();
      return 0;
    }
    const result = await client.call(method!, params);
    stop();
    console.log(toJson(result, values.json ? 0 : 2));
    return 0;
  } finally {
    stop();
    await client.close().catch(() => {});
  }
}

function hint(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/refused|ECONNREFUSED|os error 111/i.test(message)) {
    return "is the server running there? (parley serve MODULE starts one)";
  }
  if (error instanceof RpcError && error.code === -32601) {
    return "the server has no such method: parley list URL shows the ones it has";
  }
  if (error instanceof RpcError && error.code === -32602) {
    return "the params do not fit: parley list URL shows what the method takes";
  }
  return "";
}

if (import.meta.main) {
  let status: number;
  try {
    status = await main(Deno.args);
  } catch (error) {
    const next = hint(error);
    if (error instanceof UsageError) {
      console.error(red(`parley: ${error.message}`));
      console.error("parley help shows the commands and their options");
      status = 2;
    } else if (error instanceof RpcError) {
      console.error(red(`error ${error.code}: ${error.message}`));
      if (error.data !== undefined) console.error(toJson(error.data));
      if (next !== "") console.error(next);
      status = 1;
    } else if (error instanceof TimeoutError) {
      console.error(red(`parley: ${error.message}`));
      console.error("raise --timeout, or check that the server answers");
      status = 4;
    } else {
      console.error(red(`parley: ${error instanceof Error ? error.message : String(error)}`));
      if (next !== "") console.error(next);
      status = 3;
    }
  }
  Deno.exit(status);
}
