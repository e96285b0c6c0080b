import { protobufRpc } from "../../codecs/protobuf.ts";
import { calculatorSchema, ERROR_DETAILS } from "../../examples/calculator/protobuf.ts";
import type { RpcMessage } from "../../rpc/types.ts";
import { runCodecSuite } from "./conformance.ts";

const schema = calculatorSchema();
const codec = protobufRpc({ schema, errorDetails: ERROR_DETAILS });

// The envelope carries what calculator.proto declares: a method's one request
// message as named params, its reply message as the result.
const MESSAGES: readonly RpcMessage[] = [
  { kind: "request", id: 1, method: "interop.Calculator/Add", params: { num1: 1, num2: 2 } },
  {
    kind: "request",
    id: 2,
    method: "interop.Calculator/Calculate",
    params: { logid: 1, w: { num1: 7, num2: 0, op: 4, comment: "héllo ✓ 𝄞" } },
  },
  { kind: "request", id: 3, method: "interop.Calculator/Echo", params: { text: '\u0000\n"\\' } },
  { kind: "request", id: 4, method: "interop.Calculator/Ping", params: {} },
  { kind: "notification", method: "interop.Calculator/Zip", params: {} },
  { kind: "result", id: 1, result: { sum: 3 } },
  { kind: "result", id: 3, result: { text: "" } },
  { kind: "result", id: 4, result: {} },
  { kind: "error", id: 1, error: { code: -32601, message: "Method not found" } },
  {
    kind: "error",
    id: 2,
    error: {
      code: 1,
      message: "Cannot divide by 0",
      data: { whatOp: 4, why: "Cannot divide by 0" },
    },
  },
];

runCodecSuite("protobufRpc()", codec, {
  pair: () => [codec.fork!(), codec.fork!()],
  messages: MESSAGES,
  skip: {
    anyMessage:
      "the envelope carries only what the .proto declares: its typed values' properties are in protobuf_test.ts",
    truncated:
      "a protobuf message has no end marker: a prefix of one is often a valid shorter message",
  },
});
