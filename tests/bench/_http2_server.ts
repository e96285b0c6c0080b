/**
 * The HTTP/2 benchmark's server process: a gRPC-like unary exchange (a
 * POST whose body is one 5-byte-prefixed message; the reply is headers, one
 * prefixed message, and `grpc-status: 0` trailers), served by `parley`
 * (serveHttp2, parley's own HTTP/2) or `node` (Deno's node:http2). Prints
 * `listening PORT`; exits on SIGTERM.
 *
 * @module
 */

import http2 from "node:http2";
import { serveHttp2 } from "../../rpc/transports/http2.ts";

const REPLY = new Uint8Array([0, 0, 0, 0, 2, 0x08, 0x03]);
const mode = Deno.args[0];

if (mode === "parley") {
  const server = serveHttp2({
    maxConcurrentStreams: 1000,
    onStream: async (stream) => {
      let length = 0;
      for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) {
        length += chunk.length;
      }
      if (length < 5) return stream.reset();
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.write(REPLY);
      stream.end({ "grpc-status": "0" });
    },
  });
  console.log(`listening ${server.addr.port}`);
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
} else if (mode === "node") {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.on("error", () => {});
    let length = 0;
    stream.on("data", (chunk: Uint8Array) => length += chunk.length);
    stream.on("end", () => {
      if (length < 5) return stream.close();
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
        waitForTrailers: true,
      });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(REPLY);
    });
  });
  server.listen(0, "127.0.0.1", () => {
    console.log(`listening ${(server.address() as { port: number }).port}`);
  });
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
} else {
  console.error(`unknown mode ${mode}`);
  Deno.exit(2);
}
