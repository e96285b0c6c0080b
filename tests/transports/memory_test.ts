import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { testCases } from "../../testing/cases.ts";
import { memoryHarness } from "../../testing/memory_harness.ts";
import { transportSuite } from "../../testing/transport_suite.ts";

testCases(transportSuite(memoryHarness()));
testCases(transportSuite(memoryHarness(), { codec: msgpackRpc() }));
