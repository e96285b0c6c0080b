import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { testCases } from "../../testing/cases.ts";
import { transportSuite } from "../../testing/transport_suite.ts";
import { socketHarness } from "./_socket.ts";

const tcp = socketHarness("TCP", {
  listen: () => Promise.resolve({ hostname: "127.0.0.1", port: 0 }),
  reach: (address) => address,
});

testCases(transportSuite(tcp));
testCases(transportSuite(tcp, { codec: msgpackRpc() }));
