/**
 * Codec-only operations per second: encoding plus decoding one call and its
 * reply through parley's codecs, next to the libraries they stand on used
 * alone (msgpackr's pack / unpack; JSON.stringify / JSON.parse), in
 * alternating rounds. The ratio is the framework's overhead on top of the
 * library: the message model, the shape checks, the header walk that
 * refuses hostile input, and the integer widening.
 *
 * @module
 */

import { Packr, Unpackr } from "msgpackr";
import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import type { Codec, RpcMessage } from "../../rpc/types.ts";
import { Report } from "./_report.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? "1");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? "3");
const MAX_OPS = 50_000_000;

const request: RpcMessage = { kind: "request", id: 12345, method: "add", params: [17, 25] };
const reply: RpcMessage = { kind: "result", id: 12345, result: 42 };
const shape = { name: "s", coords: [1.5, -2.25], tags: { a: 1, b: 2 }, flag: true };
const shapeRequest: RpcMessage = { kind: "request", id: 7, method: "echoShape", params: [shape] };

// Runs `op` in blocks of 256 until the time is up; returns operations per second.
function measure(op: () => void): number {
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let ops = 0;
  while (performance.now() < deadline && ops < MAX_OPS) {
    for (let i = 0; i < 256; i++) op();
    ops += 256;
  }
  return ops / ((performance.now() - start) / 1000);
}

function viaCodec(codec: Codec, messages: readonly RpcMessage[]): () => void {
  return () => {
    for (const m of messages) codec.decode(codec.encode(m));
  };
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, int64AsType: "auto" as "bigint" });
// Bytes from a socket are a plain Uint8Array, not the Node Buffer that
// msgpackr packs into: the baseline unpacks such a view, as parley's does.
const msgpackrAlone = (values: readonly unknown[]) => () => {
  for (const v of values) {
    const packed = packr.pack(v);
    unpackr.unpack(new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength));
  }
};
const jsonAlone = (values: readonly unknown[]) => () => {
  for (const v of values) JSON.parse(JSON.stringify(v));
};

const small = [request, reply];
const smallWire = [[0, 12345, "add", [17, 25]], [1, 12345, null, 42]];
const smallJson = [
  { jsonrpc: "2.0", method: "add", params: [17, 25], id: 12345 },
  { jsonrpc: "2.0", result: 42, id: 12345 },
];
const nested = [shapeRequest];
const nestedWire = [[0, 7, "echoShape", [shape]]];
const nestedJson = [{ jsonrpc: "2.0", method: "echoShape", params: [shape], id: 7 }];

const report = new Report("ops/s");
const msgpack = msgpackRpc();
const json = jsonRpc();
for (let round = 1; round <= ROUNDS; round++) {
  const mr = measure(msgpackrAlone(smallWire));
  const mp = measure(viaCodec(msgpack, small));
  const mrNested = measure(msgpackrAlone(nestedWire));
  const mpNested = measure(viaCodec(msgpack, nested));
  const js = measure(jsonAlone(smallJson));
  const jp = measure(viaCodec(json, small));
  const jsNested = measure(jsonAlone(nestedJson));
  const jpNested = measure(viaCodec(json, nested));
  report.record("msgpackr alone, call + reply", mr);
  report.record("msgpackRpc(), call + reply", mp);
  report.record("msgpackr alone, echoShape call", mrNested);
  report.record("msgpackRpc(), echoShape call", mpNested);
  report.record("JSON.stringify + parse alone, call + reply", js);
  report.record("jsonRpc(), call + reply", jp);
  report.record("JSON.stringify + parse alone, echoShape call", jsNested);
  report.record("jsonRpc(), echoShape call", jpNested);
  report.record("ratio msgpackRpc/msgpackr, call + reply", mp / mr);
  report.record("ratio msgpackRpc/msgpackr, echoShape call", mpNested / mrNested);
  report.record("ratio jsonRpc/JSON, call + reply", jp / js);
  report.record("ratio jsonRpc/JSON, echoShape call", jpNested / jsNested);
  console.error(`round ${round}: msgpackr ${mr.toFixed(0)}/s, msgpackRpc ${mp.toFixed(0)}/s`);
}
report.print(
  `Codecs alone: encode + decode operations per second, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
