// The types of examples/calculator/calculator.proto, in parley's plain form. Written by `deno task proto:types`;
// regenerate rather than edit.

export const Operation = {
  OPERATION_UNSPECIFIED: 0,
  ADD: 1,
  SUBTRACT: 2,
  MULTIPLY: 3,
  DIVIDE: 4,
} as const;
/** A value of the enum interop.Operation (proto3 enums are open: other numbers may arrive). */
export type Operation = number;

/** The message interop.Empty. */
export type Empty = Record<string, never>;

/** The message interop.AddRequest. */
export interface AddRequest {
  num1: number;
  num2: number;
}

/** The message interop.AddReply. */
export interface AddReply {
  sum: number;
}

/** The message interop.Work. */
export interface Work {
  num1: number;
  num2: number;
  op: Operation;
  comment?: string;
}

/** The message interop.CalculateRequest. */
export interface CalculateRequest {
  logid: number;
  w?: Work;
}

/** Carried in rpc.Error.details when Calculate fails. */
export interface InvalidOperation {
  whatOp: number;
  why: string;
}

/** The message interop.CalculateReply. */
export interface CalculateReply {
  value: number;
}

/** The message interop.EchoMessage. */
export interface EchoMessage {
  text: string;
}

/** The message interop.BinaryMessage. */
export interface BinaryMessage {
  data: Uint8Array;
}

/** The message interop.Shape. */
export interface Shape {
  name: string;
  coords: number[];
  tags: Record<string, bigint>;
  blob: Uint8Array;
  flag: boolean;
}

/** The message interop.SumRequest. */
export interface SumRequest {
  values: bigint[];
}

/** The message interop.SumReply. */
export interface SumReply {
  total: bigint;
}

/** The message interop.RangeRequest. */
export interface RangeRequest {
  start: number;
  /** 0..1,000,000; outside: InvalidOperation(1, "invalid count") */
  count: number;
  /** wait before each message; 0 = none */
  delayMs: number;
}

/** The message interop.Number. */
export interface Number {
  value: bigint;
}

/** The service interop.Calculator: `protoClient<Calculator>(...)`, `protoService<Calculator>(...)`. */
export interface Calculator {
  Ping(request: Empty): Empty;
  Add(request: AddRequest): AddReply;
  Calculate(request: CalculateRequest): CalculateReply;
  Echo(request: EchoMessage): EchoMessage;
  EchoBinary(request: BinaryMessage): BinaryMessage;
  EchoShape(request: Shape): Shape;
  Sum(request: SumRequest): SumReply;
  /** One-way: sent as a notification (envelope id 0); no reply. */
  Zip(request: Empty): Empty;
  /** Streaming (gRPC, Connect, gRPC-Web where the protocol allows; see README). */
  Range(request: RangeRequest): AsyncIterable<Number>;
  /** exact sum of all values received */
  Total(requests: AsyncIterable<Number>): SumReply;
  /** the running total after each value */
  Running(requests: AsyncIterable<Number>): AsyncIterable<SumReply>;
}
