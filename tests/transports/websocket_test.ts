import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { testCases } from "../../testing/cases.ts";
import { transportSuite } from "../../testing/transport_suite.ts";
import { webSocketHarness } from "./_http.ts";

testCases(transportSuite(webSocketHarness()));
testCases(transportSuite(webSocketHarness(), { codec: msgpackRpc() }));
