// vscode-jsonrpc (the JSON-RPC library of every VS Code language client) as
// a client of a parley server over TCP with LSP's Content-Length framing:
// a cancelled request is answered at once with RequestCancelled (-32800),
// as the Language Server Protocol requires, even when its handler never
// settles; the cancelled calls leave their in-flight slots, and drain()
// finishes.

import assert from "node:assert/strict";
import * as net from "node:net";
import {
  CancellationTokenSource,
  createMessageConnection,
  type MessageConnection,
  ResponseError,
  SocketMessageReader,
  SocketMessageWriter,
} from "vscode-jsonrpc/node.js";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { type Peer, withContext } from "../../mod.ts";
import { contentLength } from "../../rpc/framing/content_length.ts";
import { serveTcp } from "../../rpc/transports/tcp.ts";

async function connect(port: number): Promise<{ connection: MessageConnection; end(): void }> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const connection = createMessageConnection(
    new SocketMessageReader(socket),
    new SocketMessageWriter(socket),
  );
  connection.listen();
  return {
    connection,
    end() {
      connection.dispose();
      socket.destroy();
    },
  };
}

// Fails the test instead of hanging it when `promise` never settles.
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} never happened`)), 10_000);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

Deno.test("vscode-jsonrpc: a cancelled request is answered -32800 at once and frees its slot", async () => {
  let aborted = 0;
  const peers: Peer[] = [];
  const server = serveTcp({ hostname: "127.0.0.1", port: 0 }, {
    codec: jsonRpc(),
    framing: contentLength({ contentType: "application/vscode-jsonrpc; charset=utf-8" }),
    limits: { maxInFlight: 2 },
    onConnection: (peer) => peers.push(peer),
    service: {
      // The handler withContext's own documentation shows: it clears its
      // timer on abort and never settles.
      wait: withContext((ctx, ms: number) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, ms);
          ctx.signal.addEventListener("abort", () => {
            aborted++;
            clearTimeout(timer);
          });
        })
      ),
      add: (a: number, b: number) => a + b,
    },
  });
  const { connection, end } = await connect((server.addr as Deno.NetAddr).port);
  try {
    // Three cancellations with a limit of two calls in flight: if cancelled
    // calls kept their slots, the third wait and the add would be refused.
    for (let i = 0; i < 3; i++) {
      const source = new CancellationTokenSource();
      const waiting = connection.sendRequest("wait", 60_000, source.token);
      setTimeout(() => source.cancel(), 20);
      const error = await within(waiting.then(() => undefined, (e: unknown) => e), "the reply");
      assert.ok(error instanceof ResponseError, `a ResponseError, got ${error}`);
      assert.equal(error.code, -32800);
      assert.equal(error.message, "Request cancelled");
    }
    assert.equal(await connection.sendRequest("add", 1, 2), 3);
    assert.equal(aborted, 3);
    assert.equal(peers.length, 1);
    assert.equal(peers[0]!.inFlight, 0);
    await within(peers[0]!.drain(), "drain()");
  } finally {
    end();
    await server.shutdown();
  }
});
