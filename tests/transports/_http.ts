/**
 * HTTP and WebSocket as harnesses of the transport suite: one `serveHttp`
 * route, posted to by `connectHttp` or upgraded by `connectWebSocket`.
 *
 * @module
 */

import type { Peer } from "../../rpc/peer.ts";
import { connectHttp, connectWebSocket, serveHttp } from "../../rpc/transports/http.ts";
import type { TransportHarness } from "../../testing/transport_suite.ts";

/**
 * A harness over `serveHttp` and `connectHttp`: client to server only.
 *
 * @returns the harness
 */
export function httpHarness(): TransportHarness {
  return {
    name: "HTTP",
    cannot: {
      serverCalls: "HTTP is client to server only: each call is a POST answered by its response",
      connection:
        "HTTP holds no connection per client: each exchange stands alone, and a server's shutdown lets the exchanges in flight finish",
    },
    start: ({ codec, service, maxFrameSize }) => {
      const server = serveHttp({
        hostname: "127.0.0.1",
        port: 0,
        maxBodySize: maxFrameSize,
        routes: { "/rpc": { codec, service } },
      });
      return Promise.resolve({
        connect: () => Promise.resolve(connectHttp(`${server.url}/rpc`, { codec })),
        close: () => server.shutdown(),
      });
    },
  };
}

/**
 * A harness over `serveHttp`'s WebSocket routes and `connectWebSocket`.
 *
 * @returns the harness
 */
export function webSocketHarness(): TransportHarness {
  return {
    name: "WebSocket",
    start: ({ codec, service, maxFrameSize }) => {
      const ends: Peer[] = [];
      const server = serveHttp({
        hostname: "127.0.0.1",
        port: 0,
        routes: {
          "/rpc": {
            codec,
            service,
            limits: { maxFrameSize },
            websocket: { onConnection: (peer) => void ends.push(peer) },
          },
        },
      });
      const url = `${server.url.replace(/^http/, "ws")}/rpc`;
      return Promise.resolve({
        connect: (clientService) =>
          connectWebSocket(url, {
            codec,
            ...(clientService === undefined ? {} : { service: clientService }),
          }),
        serverEnd: () => ends.at(-1)!,
        released: () => ends.at(-1)!.closed,
        close: async () => {
          // At once: the connections drop with their calls in flight.
          await Promise.all(ends.map((peer) => peer.close()));
          await server.shutdown();
        },
      });
    },
  };
}
