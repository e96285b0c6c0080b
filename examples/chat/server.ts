/**
 * A chat in the browser: every page calls the server's `post()` over a
 * WebSocket, and the server pushes each message into every page by calling
 * the page's `show()`. One port serves the page, the bundled client and the
 * WebSocket. The room is also a remote object at `/objects` (`room()`): a
 * page may read its messages or start a countdown that calls the page back.
 *
 * ```sh
 * deno task example:chat            # builds dist/*.js, then serves http://127.0.0.1:8000/
 * ```
 *
 * Options: `--port N` (0 for a free one), `--bundle FILE` (the browser
 * bundle; dist/parley.js by default). The page loads it as `/parley.js`;
 * the other bundles beside it (`json_rpc_websocket.js`, `objects.js`, …)
 * are served under their names, for pages that load only what they use.
 * Prints `listening http://HOST:PORT/`.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { defineService, method } from "../../rpc/service.ts";
import type { Peer } from "../../rpc/peer.ts";
import { serveHttp } from "../../rpc/transports/http.ts";
import { exposed, serveObjects } from "../../rpc/objects/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "8000" },
    bundle: { type: "string", default: new URL("../../dist/parley.js", import.meta.url).pathname },
  },
});

interface Message {
  readonly name: string;
  readonly text: string;
}

const pages = new Set<Peer>();
const history: Message[] = [];
const MAX_HISTORY = 100;

const chat = defineService({
  post: method({
    description: "Sends a message to every page.",
    params: z.tuple([z.string().min(1).max(40), z.string().min(1).max(500)]),
    result: z.number(),
    handler: async (name, text) => {
      const message = { name, text };
      history.push(message);
      if (history.length > MAX_HISTORY) history.shift();
      // Every page shows it, the sender's included; a page that went away is skipped.
      const shown = await Promise.allSettled(
        [...pages].map((page) => page.call("show", [message])),
      );
      return shown.filter((outcome) => outcome.status === "fulfilled").length;
    },
  }),
  history: method({
    description: "The latest messages, oldest first.",
    params: z.tuple([]),
    result: z.array(z.object({ name: z.string(), text: z.string() })),
    handler: () => history,
  }),
});

/** The chat room as a remote object. */
class Room {
  /** The latest messages, oldest first. */
  @exposed
  messages(): Message[] {
    return history;
  }
  /** Counts down from `from`, calling `tick(n)` on the caller's side each time. */
  @exposed
  async countdown(from: number, tick: (n: number) => unknown): Promise<string> {
    for (let n = Math.min(from, 10); n > 0; n--) await tick(n);
    return "liftoff";
  }
}
const room = new Room();

const page = await Deno.readFile(new URL("./index.html", import.meta.url));
const bundle = await Deno.readFile(values.bundle).catch(() => {
  console.error(`chat: no browser bundle at ${values.bundle}: run deno task build:web first`);
  Deno.exit(2);
});
// The bundles beside it, by name: dist/ holds one per browser entry.
const bundles = new Map<string, Uint8Array<ArrayBuffer>>();
for await (const file of Deno.readDir(dirname(values.bundle))) {
  if (file.isFile && file.name.endsWith(".js") && file.name !== basename(values.bundle)) {
    bundles.set(`/${file.name}`, await Deno.readFile(join(dirname(values.bundle), file.name)));
  }
}

const server = serveHttp({
  port: Number(values.port),
  routes: {
    "/rpc": {
      codec: jsonRpc(),
      service: chat,
      websocket: {
        onConnection: (peer) => {
          pages.add(peer);
          peer.closed.then(() => pages.delete(peer));
        },
      },
    },
    // Remote objects: a session per page.
    "/objects": {
      codec: jsonRpc(),
      service: {},
      websocket: { service: serveObjects({ room: () => room }) },
    },
  },
  fallback: (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/") return new Response(page, { headers: { "content-type": "text/html" } });
    const script = path === "/parley.js" ? bundle : bundles.get(path);
    if (script !== undefined) {
      return new Response(script, { headers: { "content-type": "text/javascript" } });
    }
    return new Response("Not Found\n", { status: 404 });
  },
});
console.log(`listening ${server.url}/`);
const stop = () => server.shutdown().then(() => Deno.exit(0));
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
