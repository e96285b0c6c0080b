/**
 * The stdio transport for Deno: serve a service over this process's own
 * stdin and stdout ({@linkcode serveStdio}), or spawn a child process and
 * talk to it over its stdin and stdout ({@linkcode spawnStdio}): a parley
 * server, a language server (Content-Length framing), Neovim
 * (`nvim --embed`, msgpack-rpc), or anything that speaks a codec on its
 * standard streams. Any codec and any framing.
 *
 * A process served over stdio must write nothing else to stdout: every byte
 * there is read as protocol. Log to stderr (`console.error`).
 *
 * @module
 */

export {
  type ConnectionInfo,
  type PerConnection,
  perConnection,
  type ServiceSource,
} from "../serve_connection.ts";
export {
  serveStdio,
  type ServeStdioOptions,
  type StdioPeerOptions,
  type StdioServer,
} from "./stdio/serve.ts";
export { ProcessExitError } from "./stdio/_child.ts";
export { respawnStdio, type RespawnStdioOptions } from "./stdio/respawn.ts";
export {
  spawnStdio,
  type SpawnStdioOptions,
  type StdioChildInfo,
  StdioProcess,
} from "./stdio/spawn.ts";
