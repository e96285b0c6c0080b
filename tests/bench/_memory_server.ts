/**
 * The memory benchmark's server: JSON-RPC on TCP (newline framing) with room
 * for more connections than the default limit, run with `--expose-gc` so
 * that a `gc` notification collects before memory is read. Prints
 * `listening PORT`; exits on SIGTERM.
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { newline } from "../../rpc/framing/delimiter.ts";
import { serveTcp } from "../../rpc/transports/tcp.ts";

const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
  codec: jsonRpc(),
  framing: newline(),
  maxConnections: 20_000,
  service: { add: (a: number, b: number) => a + b, gc: () => void collect() },
});
console.log(`listening ${(server.addr as Deno.NetAddr).port}`);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
await server.finished;
