/**
 * A benchmark server process: the `ws` package alone on parley's
 * `ConnDuplex` (the design `serveHttp`'s WebSocket routes run on), echoing
 * every message back as it came, no codec, no RPC. Beside the bare
 * `Deno.upgradeWebSocket` echo (`_server.ts ws-echo`), it says what the
 * design costs before parley does anything: the ceiling of parley's
 * WebSocket server. Prints `listening PORT`; exits on SIGTERM.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { WebSocketServer } from "ws";
import { ConnDuplex } from "../../rpc/transports/http/_conn_duplex.ts";

const server = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: false,
});
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`listening ${listener.addr.port}`);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

// The handshake of a benchmark client arrives in one read: its head, then
// whatever followed it.
async function accept(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  const n = await conn.read(buffer);
  if (n === null) return conn.close();
  const text = new TextDecoder().decode(buffer.subarray(0, n));
  const end = text.indexOf("\r\n\r\n");
  const [requestLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const [method, url] = requestLine!.split(" ");
  const duplex = new ConnDuplex(conn);
  duplex.on("error", () => {});
  server.handleUpgrade(
    { method, url, headers } as never,
    duplex as never,
    Buffer.from(buffer.subarray(new TextEncoder().encode(text.slice(0, end + 4)).length, n)),
    (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })),
  );
}

for await (const conn of listener) accept(conn).catch(() => conn.close());
