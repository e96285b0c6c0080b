// `parley serve MODULE`: the default export of a module, over a codec and a
// transport, self-described (OpenRPC's rpc.discover, or XML-RPC's system.*).

import { CODEC_REGISTRY, type CodecEntry } from "../codecs/registry.ts";
import { withOpenRpc } from "../rpc/openrpc.ts";
import { withSystemMethods } from "../rpc/system_methods.ts";
import { framingByName } from "../rpc/framing/by_name.ts";
import { serveHttp } from "../rpc/transports/http.ts";
import { serveStdio } from "../rpc/transports/stdio.ts";
import { serveTcp } from "../rpc/transports/tcp.ts";
import type { Codec } from "../rpc/types.ts";
import { type CodecName, defaultFraming, entryOf } from "./client.ts";
import { UsageError } from "./endpoint.ts";

/** What `serve` is told. */
export interface ServeCommand {
  readonly codec: CodecName;
  readonly transport: string;
  readonly host: string;
  readonly port: number;
  readonly path?: string;
  readonly framing?: string;
}

/**
 * What serve speaks: the codecs that need no IDL, since a module's default
 * export is all it is given.
 *
 * @example
 * ```ts
 * import { SERVE_CODECS } from "./serve.ts";
 * console.assert(SERVE_CODECS.map((entry) => entry.name).join() === "jsonrpc,xmlrpc,msgpack");
 * ```
 */
export const SERVE_CODECS: readonly CodecEntry[] = CODEC_REGISTRY.filter((entry) =>
  entry.idl === undefined
);

async function codecOf(entry: CodecEntry): Promise<Codec> {
  if (entry.idl !== undefined) {
    const names = SERVE_CODECS.map((e) => e.name);
    throw new UsageError(
      `serve speaks ${names.slice(0, -1).join(", ")} and ${
        names.at(-1)
      }; for ${entry.name}, write a server with the codec (see the README)`,
    );
  }
  return (await entry.load())({}).codec;
}

// The user's module is known only at run time. `deno publish` warns about
// every import() whose target it cannot see (unanalyzable-dynamic-import)
// and has no way to mark one as intended (denoland/deno#22594); a file URL
// needs no import map, which is what the warning is about, so the import is
// made where the publish analysis does not look.
const importUrl = new Function("url", "return import(url)") as (
  url: string,
) => Promise<{ default?: unknown }>;

/**
 * Serves `module`'s default export until SIGINT or SIGTERM.
 *
 * @returns the exit status
 */
export async function serve(module: string, options: ServeCommand): Promise<number> {
  let imported: { default?: unknown };
  try {
    imported = await importUrl(new URL(`file://${module}`).href);
  } catch (error) {
    throw new UsageError(`Cannot import ${module}: ${(error as Error).message}`);
  }
  const exported = imported.default;
  if (typeof exported !== "object" || exported === null) {
    throw new UsageError(
      `${module} has no default export to serve: export default an object of functions, a class instance or a defineService() definition`,
    );
  }
  const entry = entryOf(options.codec);
  const codec = await codecOf(entry);
  const title = module.split("/").pop()!.replace(/\.[jt]s$/, "");
  // Described the way its clients ask: OpenRPC, else XML-RPC's system.*.
  const service = entry.introspection.includes("rpc.discover")
    ? withOpenRpc(exported, { title })
    : withSystemMethods(exported);
  const onError = (error: unknown) =>
    console.error("parley serve:", error instanceof Error ? error.message : error);
  let server: { url: string; shutdown(): Promise<void>; finished: Promise<void> };
  switch (options.transport) {
    case "tcp":
    case "unix":
    case "stdio": {
      const name = options.framing ?? defaultFraming(options.codec, options.transport === "stdio");
      const framing = framingByName(name, codec);
      if (framing === undefined) {
        throw new UsageError(`Framing "${name}" does not fit ${options.codec}`);
      }
      if (options.transport === "stdio") {
        const stdio = serveStdio({ codec, framing, service, onError });
        await stdio.finished;
        return 0;
      }
      const address = options.transport === "unix"
        ? {
          transport: "unix" as const,
          path: options.path ?? (() => {
            throw new UsageError("--transport unix needs --path SOCKET");
          })(),
        }
        : { hostname: options.host, port: options.port };
      server = serveTcp(address, { codec, framing, service, onError });
      break;
    }
    case "http":
    case "ws": {
      const path = entry.httpPath;
      const http = serveHttp({
        hostname: options.host,
        port: options.port,
        routes: { [path]: { codec, service, websocket: options.transport === "ws" } },
        onError,
      });
      const base = options.transport === "ws" ? http.url.replace(/^http/, "ws") : http.url;
      server = { url: `${base}${path}`, shutdown: http.shutdown, finished: http.finished };
      break;
    }
    default:
      throw new UsageError(
        `Unknown transport "${options.transport}": tcp, unix, http, ws or stdio`,
      );
  }
  console.log(`listening ${server.url}`);
  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}
