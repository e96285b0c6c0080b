import { startNatsServer } from "../../testing/nats_server.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import {
  connectNats,
  natsClient,
  type NatsConnectionLike,
  serveNats,
} from "../../rpc/transports/nats.ts";
import { testCases } from "../../testing/cases.ts";
import { type TransportHarness, transportSuite } from "../../testing/transport_suite.ts";
import { needs } from "../_needs.ts";

const SUBJECT = "suite";

// A nats-server per case, one worker serving the subject, a NATS connection
// per client.
const nats: TransportHarness = {
  name: "NATS",
  cannot: {
    serverCalls: "NATS is request/reply from clients to workers: a worker cannot call a client",
    connection:
      "a client holds no connection to a worker: a call is a request any worker of the queue group takes",
    batch: "the NATS client sends each call as its own request: it has no batch()",
  },
  start: async ({ codec, service, maxFrameSize }) => {
    const server = await startNatsServer();
    const connections: NatsConnectionLike[] = [];
    const connect = async () => {
      const connection = await connectNats(server.url);
      connections.push(connection);
      return connection;
    };
    const worker = serveNats({
      connection: await connect(),
      subject: SUBJECT,
      codec,
      service,
      limits: { maxFrameSize },
    });
    await worker.ready;
    return {
      connect: async () => {
        const connection = await connect();
        const client = natsClient({ connection, subject: SUBJECT, codec, timeout: 10_000 });
        return {
          call: (method, params, options) => client.call(method, params, options),
          notify: (method, params) => client.notify(method, params),
          close: () => connection.drain(),
        };
      },
      close: async () => {
        // The server goes with its connections (a call left waiting dies with it).
        await server.stop();
      },
    };
  },
};

// needs() reports a missing nats-server once, with its Debian package.
const ignore = needs("nats-server");
testCases(transportSuite(nats), { ignore });
testCases(transportSuite(nats, { codec: msgpackRpc() }), { ignore });
