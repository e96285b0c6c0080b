// The auth case over a few codec × transport pairs (the shared suite of
// helper "meta" will run it over all of them).

import { jsonRpc } from "../codecs/json_rpc.ts";
import { msgpackRpc } from "../codecs/msgpack_rpc.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import type { Codec, Framing } from "../rpc/types.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";
import { connectHttp, connectWebSocket, serveHttp } from "../rpc/transports/http.ts";
import { serveMutualTls } from "../rpc/transports/mtls.ts";
import { makeMutualTlsCertificates } from "../testing/mtls_certificates.ts";
import { authCase, type AuthPair } from "./_auth_case.ts";

function tcpPair(codec: Codec, framing: Framing): AuthPair {
  return {
    name: `${codec.name} × tcp`,
    transport: "tcp",
    identifies: false,
    contextPer: "connection",
    start: (options) => {
      const server = serveTcp({ port: 0 }, { codec, framing, ...options });
      return Promise.resolve({
        connect: () => connectTcp(server.address, { codec, framing }),
        close: () => server.shutdown(),
      });
    },
  };
}

function mtlsPair(codec: Codec, framing: Framing): AuthPair {
  return {
    name: `${codec.name} × mutual tls`,
    transport: "tls",
    identifies: true,
    contextPer: "connection",
    start: async (options) => {
      const certs = await makeMutualTlsCertificates();
      const server = await serveMutualTls(
        { transport: "tls", port: 0, ...certs.server, clientCa: [certs.ca] },
        { codec, framing, ...options },
      );
      return {
        connect: (user) =>
          connectTcp({
            ...server.address,
            caCerts: [certs.ca],
            ...(user === "alice" ? certs.client : {}),
          }, { codec, framing }),
        close: async () => {
          await server.shutdown();
          await certs[Symbol.asyncDispose]();
        },
      };
    },
  };
}

function httpPair(codec: Codec, websocket: boolean): AuthPair {
  return {
    name: `${codec.name} × ${websocket ? "websocket" : "http"}`,
    transport: websocket ? "websocket" : "http",
    identifies: true,
    contextPer: websocket ? "connection" : "request",
    start: (options) => {
      const { interceptors, context, service } = options;
      const server = serveHttp({
        routes: { "/rpc": { codec, service, interceptors, context, websocket } },
      });
      const url = `${server.url}/rpc`;
      return Promise.resolve({
        connect: (user) =>
          websocket
            ? connectWebSocket(url.replace("http", "ws"), {
              codec,
              WebSocket: class extends WebSocket {
                constructor(url: string | URL) {
                  super(url, { headers: { "x-user": user } });
                }
              },
            })
            : Promise.resolve(connectHttp(url, { codec, headers: { "x-user": user } })),
        close: () => server.shutdown(),
      });
    },
  };
}

authCase(tcpPair(jsonRpc(), newline()));
authCase(tcpPair(msgpackRpc(), lengthPrefix()));
authCase(mtlsPair(jsonRpc(), newline()));
authCase(mtlsPair(msgpackRpc(), lengthPrefix()));
authCase(httpPair(jsonRpc(), false));
authCase(httpPair(msgpackRpc(), false));
authCase(httpPair(jsonRpc(), true));
