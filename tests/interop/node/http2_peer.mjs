// Node's own HTTP/2 (node:http2, nghttp2) as a peer of parley's HTTP/2, for
// tests/http2_interop_test.ts. Built-in modules only.
//
//   node http2_peer.mjs server
//     An h2c echo server on 127.0.0.1 (ephemeral port); prints
//     `listening http://127.0.0.1:PORT`. Each POST's body comes back with
//     trailers `x-bytes: N` (bytes received) and `x-tag-end` (the request's
//     `x-tag`); GET /only answers trailers-only (`:status 200`,
//     `grpc-status: 5`); /reset is reset with RST_STREAM INTERNAL_ERROR.
//     A client's cancel is printed as `aborted PATH rstCode=N` on stdout.
//     Stops on SIGTERM or when stdin closes.
//
//   node http2_peer.mjs client URL
//     Calls an echo server with the same behaviour at URL: 50 POSTs at once
//     (10 kB each), one of 5 MB, /only and /reset, and a stream it cancels
//     itself; prints one line of JSON with what it saw and exits 0, or a
//     message on stderr and exits 1.

import http2 from "node:http2";
import process from "node:process";

const [mode, url] = process.argv.slice(2);

function pattern(size, seed) {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >>> 11)) & 0xff;
  return bytes;
}

if (mode === "server") {
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    const path = headers[":path"];
    stream.on("aborted", () => process.stdout.write(`aborted ${path} rstCode=${stream.rstCode}\n`));
    if (path === "/only") {
      stream.respond({ ":status": 200, "grpc-status": "5" }, { endStream: true });
      return;
    }
    if (path === "/reset") {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.respond({ ":status": 200 }, { waitForTrailers: true });
    let bytes = 0;
    stream.on("data", (chunk) => {
      bytes += chunk.length;
      if (!stream.write(chunk)) {
        stream.pause();
        stream.once("drain", () => stream.resume());
      }
    });
    stream.on(
      "wantTrailers",
      () => stream.sendTrailers({ "x-bytes": String(bytes), "x-tag-end": headers["x-tag"] ?? "" }),
    );
    stream.on("end", () => stream.end());
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
  });
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.stdin.on("close", stop).resume();
} else if (mode === "client") {
  setTimeout(() => {
    process.stderr.write("http2_peer client: did not finish in 60 s\n");
    process.exit(1);
  }, 60_000).unref();
  const session = http2.connect(url);
  session.on("error", (error) => {
    process.stderr.write(`http2_peer client: ${error.stack}\n`);
    process.exit(1);
  });

  /** One request; resolves with its status, body, trailers and reset code. */
  const exchange = (headers, body) =>
    new Promise((resolve) => {
      const stream = session.request(headers, body === undefined ? { endStream: true } : {});
      const chunks = [];
      let response = {};
      let trailers = {};
      stream.on("response", (h) => response = h);
      stream.on("trailers", (t) => trailers = t);
      stream.on("data", (chunk) => chunks.push(chunk));
      stream.on("error", () => {});
      stream.on("close", () =>
        resolve({ response, trailers, body: Buffer.concat(chunks), rstCode: stream.rstCode }));
      if (body !== undefined) {
        stream.end(body);
      }
    });

  const result = {};
  const many = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const body = pattern(10_000, i);
    const got = await exchange(
      { ":method": "POST", ":path": `/echo/${i}`, "x-tag": `t${i}` },
      body,
    );
    return got.body.equals(body) && got.trailers["x-bytes"] === "10000" &&
      got.trailers["x-tag-end"] === `t${i}` && got.response[":status"] === 200;
  }));
  result.concurrent = many.filter(Boolean).length;
  const big = pattern(5_000_000, 9);
  const echoed = await exchange({ ":method": "POST", ":path": "/big" }, big);
  result.big = echoed.body.equals(big) && echoed.trailers["x-bytes"] === "5000000";
  const only = await exchange({ ":method": "GET", ":path": "/only" });
  result.only = { status: only.response[":status"], grpcStatus: only.response["grpc-status"] };
  const reset = await exchange({ ":method": "GET", ":path": "/reset" });
  result.resetCode = reset.rstCode;
  // A stream this side cancels after its response headers.
  result.cancelled = await new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": "/cancel-me" });
    stream.on("error", () => {});
    stream.on("response", () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on("close", () => resolve(stream.rstCode));
    stream.write("part of a body");
  });
  session.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  process.stderr.write("usage: node http2_peer.mjs server | client URL\n");
  process.exit(2);
}
