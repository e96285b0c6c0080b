import { ThriftException, thriftRpc } from "../../codecs/thrift.ts";
import { calculatorThrift, invalidOperationError } from "../../examples/calculator/thrift.ts";
import type { RpcMessage } from "../../rpc/types.ts";
import { runCodecSuite } from "./conformance.ts";

const schema = calculatorThrift();

// Thrift carries what calculator.thrift declares: a method's fields as
// positional params, its return type as the result, declared exceptions.
const MESSAGES: readonly RpcMessage[] = [
  { kind: "request", id: 1, method: "add", params: [1, 2] },
  {
    kind: "request",
    id: 2,
    method: "calculate",
    params: [1, { num1: 7, num2: 0, op: 4, comment: "héllo ✓ 𝄞" }],
  },
  { kind: "request", id: 3, method: "echo", params: ['\u0000\n"\\'] },
  { kind: "request", id: 4, method: "ping", params: [] },
  { kind: "notification", method: "zip", params: [] },
  { kind: "result", id: 1, result: 3 },
  { kind: "result", id: 3, result: "" },
  { kind: "result", id: 4, result: null },
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

// A client numbers its calls with seqids (its first call is 1) and maps the
// replies back to the caller's ids; a declared exception arrives as a
// ThriftException, which says which one it is.
function asThriftReads(message: RpcMessage): RpcMessage {
  if (message.kind === "request") return { ...message, id: 1 };
  if (message.kind !== "error") return message;
  const { code, message: text, data } = message.error;
  const fields = data as Record<string, unknown>;
  return { ...message, error: new ThriftException("InvalidOperation", fields, code, text) };
}

for (const protocol of ["binary", "compact"] as const) {
  const codec = thriftRpc({ schema, protocol, exceptionError: invalidOperationError });
  runCodecSuite(`thriftRpc({ protocol: "${protocol}" })`, codec, {
    pair: () => [codec.fork!(), codec.fork!()],
    messages: MESSAGES,
    normalize: asThriftReads,
    skip: {
      anyMessage:
        "Thrift carries only what its IDL declares: its typed values' properties are in thrift_test.ts",
    },
  });
}
