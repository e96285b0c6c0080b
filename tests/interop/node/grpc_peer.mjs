// @grpc/grpc-js as a peer of parley's gRPC: a client of parley's server, and
// a server that parley's client calls. calculator.proto is loaded by
// @grpc/proto-loader (no code generation).
//
//   node grpc_peer.mjs client HOST:PORT SCENARIO [--proto-dir DIR]
//     prints one line of JSON: {"code": 0, ...} for OK, else the status's
//     code, its details and what the error's metadata held.
//     Scenarios: add, metadata (Add with x-request-tag: js-1; the reply's
//     x-request-* headers and trailers), invalid (Calculate dividing by 0:
//     whether grpc-status-details-bin came), deadline (Ping, 300 ms), gzip
//     (EchoBinary of 13,000 compressible bytes, the channel compressing).
//     Streaming: range (Range 5..8 with x-request-tag: js-r), range-invalid
//     (count -1), range-deadline (10 ms between numbers, a 300 ms
//     deadline), range-cancel (cancelled after 3 numbers), total (1, 2, 3),
//     total-overflow (i64 max, 1), total-cancel (one number, cancelled 300 ms
//     later), running (1, 2, 3), running-overflow (i64 max, 1),
//     running-gzip (200 numbers, the channel compressing). 64-bit values
//     travel as decimal strings.
//
//   node grpc_peer.mjs server [--proto-dir DIR]
//     prints `listening grpc://127.0.0.1:PORT` and serves until SIGTERM:
//     Add (echoing x-request-tag as the header x-request-tag and the trailer
//     x-request-tag-end), Calculate (DIVIDE by 0: status 3, its message, a
//     google.rpc.Status with one interop.InvalidOperation in
//     grpc-status-details-bin), Ping (answers only when cancelled or past
//     its deadline, printing `ping ended`), EchoBinary. grpc-js's server
//     reads compressed requests but never compresses its replies (1.14.7:
//     "response compression is currently not supported").
//     Streaming: Range, Total, Running as the contract says, InvalidOperation
//     as Calculate's; Range prints `range started deadline=<bool>` and
//     `range ended sent=<n> cancelled=<bool>`, Total `total ended read=<n>
//     cancelled=<bool>`; Range waits for `drain` when the reader is behind.

import { join } from "node:path";
import process from "node:process";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { argv, idlDir } from "./_args.mjs";

const [mode, ...rest] = argv;
const protoDir = idlDir(import.meta.url, "--proto-dir");
const definition = protoLoader.loadSync(join(protoDir, "calculator.proto"), {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: true,
});
const { Calculator } = grpc.loadPackageDefinition(definition).interop;
const GZIP = 2; // grpc-js's compression algorithm number for gzip
const I64_MAX = "9223372036854775807";
const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);

if (mode === "client") await client(rest[0], rest[1]);
else if (mode === "server") await server();
else {
  process.stderr.write("usage: grpc_peer.mjs client TARGET SCENARIO | server\n");
  process.exit(2);
}

function tags(metadata) {
  const out = {};
  for (const [key, value] of Object.entries(metadata?.getMap() ?? {})) {
    if (key.startsWith("x-request-")) out[key] = String(value);
  }
  return out;
}

async function client(target, scenario) {
  const options = scenario === "gzip" || scenario === "running-gzip"
    ? { "grpc.default_compression_algorithm": GZIP }
    : {};
  const stub = new Calculator(target, grpc.credentials.createInsecure(), options);
  const deadline = (ms) => ({ deadline: new Date(Date.now() + ms) });
  const call = (method, request, metadata = new grpc.Metadata(), ms = 20_000) =>
    new Promise((resolve) => {
      const seen = {};
      const c = stub[method](
        request,
        metadata,
        deadline(ms),
        (error, reply) => resolve({ error, reply, seen }),
      );
      c.on("metadata", (m) => seen.headers = tags(m));
      c.on("status", (s) => seen.trailers = tags(s.metadata));
    });
  const failed = ({ error }) => ({
    code: error.code,
    details: error.details,
    statusDetails: error.metadata.get("grpc-status-details-bin").length > 0,
  });
  let out;
  if (scenario === "add") {
    const r = await call("Add", { num1: 1, num2: 2 });
    out = r.error ? failed(r) : { code: 0, sum: r.reply.sum };
  } else if (scenario === "metadata") {
    const metadata = new grpc.Metadata();
    metadata.set("x-request-tag", "js-1");
    const r = await call("Add", { num1: 1, num2: 2 }, metadata);
    out = r.error ? failed(r) : { code: 0, sum: r.reply.sum, ...r.seen };
  } else if (scenario === "invalid") {
    const r = await call("Calculate", { logid: 1, w: { num1: 1, num2: 0, op: 4 } });
    out = r.error ? failed(r) : { code: 0 };
  } else if (scenario === "deadline") {
    const r = await call("Ping", {}, new grpc.Metadata(), 300);
    out = r.error ? failed(r) : { code: 0 };
  } else if (scenario === "gzip") {
    const data = Buffer.from("compressible ".repeat(1000));
    const r = await call("EchoBinary", { data });
    out = r.error ? failed(r) : { code: 0, same: Buffer.compare(r.reply.data, data) === 0 };
  } else if (/^(range|total|running)/.test(scenario)) {
    out = await streams(stub, scenario, failed);
    // A cancel's RST_STREAM is sent on the next turns: not cut short by the exit.
    if (scenario.endsWith("-cancel")) await new Promise((ok) => setTimeout(ok, 200));
  } else {
    process.stderr.write(`unknown scenario ${scenario}\n`);
    process.exit(2);
  }
  stub.close();
  process.stdout.write(JSON.stringify(out) + "\n");
}

// The streaming scenarios: the outcome, as JSON, with what came before an error.
function streams(stub, scenario, failed) {
  const options = {
    deadline: new Date(Date.now() + (scenario === "range-deadline" ? 300 : 20_000)),
  };
  const received = [];
  const seen = {};
  return new Promise((resolve) => {
    const done = (error, extra = {}) =>
      resolve(error ? { ...failed({ error }), received } : { code: 0, ...extra });
    const watch = (call, onEnd) => {
      call.on("metadata", (m) => seen.headers = tags(m));
      call.on("status", (s) => {
        seen.trailers = tags(s.metadata);
        if (s.code === 0) onEnd();
      });
      call.on("error", (error) => done(error));
    };
    if (scenario.startsWith("range")) {
      const request = scenario === "range"
        ? { start: 5, count: 4 }
        : scenario === "range-invalid"
        ? { start: 0, count: -1 }
        : { start: 0, count: 1000, delay_ms: scenario === "range-deadline" ? 10 : 5 };
      const metadata = new grpc.Metadata();
      metadata.set("x-request-tag", "js-r");
      const call = stub.Range(request, metadata, options);
      call.on("data", ({ value }) => {
        received.push(Number(value));
        if (scenario === "range-cancel" && received.length === 3) call.cancel();
      });
      watch(call, () => done(null, { values: received, ...seen }));
    } else if (scenario.startsWith("total")) {
      const call = stub.Total(options, (error, reply) => done(error, { total: reply?.total }));
      const values = scenario === "total-overflow" ? [I64_MAX, "1"] : ["1", "2", "3"];
      for (const value of values) call.write({ value });
      if (scenario === "total-cancel") setTimeout(() => call.cancel(), 300);
      else call.end();
    } else {
      const gzip = scenario === "running-gzip";
      const call = stub.Running(new grpc.Metadata(), options);
      call.on("data", ({ total }) => received.push(total));
      watch(call, () => done(null, { last: received.at(-1), count: received.length }));
      const values = scenario === "running-overflow"
        ? [I64_MAX, "1"]
        : Array.from({ length: gzip ? 200 : 3 }, (_, i) => String(i + 1));
      for (const value of values) call.write({ value });
      call.end();
    }
  });
}

// --- the server --------------------------------------------------------------

function varint(n) {
  const out = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(byte | (n ? 0x80 : 0));
  } while (n);
  return Buffer.from(out);
}

// A length-delimited field, by hand: grpc-js carries no google.rpc.Status.
function field(number, bytes) {
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

function statusDetails(code, message, whatOp) {
  const invalid = Buffer.concat([varint(1 << 3), varint(whatOp), field(2, Buffer.from(message))]);
  const any = Buffer.concat([
    field(1, Buffer.from("type.googleapis.com/interop.InvalidOperation")),
    field(2, invalid),
  ]);
  return Buffer.concat([
    varint(1 << 3),
    varint(code),
    field(2, Buffer.from(message)),
    field(3, any),
  ]);
}

function echoTag(call) {
  const tag = call.metadata.get("x-request-tag")[0];
  if (tag === undefined) return undefined;
  const headers = new grpc.Metadata();
  headers.set("x-request-tag", tag);
  call.sendMetadata(headers);
  const trailers = new grpc.Metadata();
  trailers.set("x-request-tag-end", tag);
  return trailers;
}

// InvalidOperation(1, why) as status 3 with its details.
function invalid(why) {
  const metadata = new grpc.Metadata();
  metadata.set("grpc-status-details-bin", statusDetails(3, why, 1));
  return { code: 3, details: why, metadata };
}

async function server() {
  const s = new grpc.Server();
  s.addService(Calculator.service, {
    Add(call, callback) {
      const trailers = echoTag(call);
      const { num1, num2 } = call.request;
      callback(null, { sum: num1 + num2 }, trailers);
    },
    Calculate(call, callback) {
      const { w } = call.request;
      if (w.op === 4 && w.num2 === 0) {
        const metadata = new grpc.Metadata();
        metadata.set("grpc-status-details-bin", statusDetails(3, "Cannot divide by 0", 4));
        return callback({ code: 3, details: "Cannot divide by 0", metadata });
      }
      const ops = { 1: (a, b) => a + b, 2: (a, b) => a - b, 3: (a, b) => a * b };
      callback(null, { value: ops[w.op](w.num1, w.num2) });
    },
    Ping(call, callback) {
      process.stdout.write(`ping started deadline=${call.getDeadline() !== Infinity}\n`);
      call.on("cancelled", () => {
        process.stdout.write("ping ended\n");
        callback({ code: 1, details: "cancelled" });
      });
    },
    EchoBinary(call, callback) {
      callback(null, call.request, echoTag(call));
    },
    async Range(call) {
      const trailers = echoTag(call);
      const { start, count, delay_ms } = call.request;
      if (!(count >= 0 && count <= 1_000_000)) return call.emit("error", invalid("invalid count"));
      process.stdout.write(`range started deadline=${call.getDeadline() !== Infinity}\n`);
      let sent = 0;
      for (; sent < count && !call.cancelled; sent++) {
        if (delay_ms > 0) await new Promise((ok) => setTimeout(ok, delay_ms));
        if (call.cancelled) break;
        if (!call.write({ value: String(BigInt(start) + BigInt(sent)) })) {
          await new Promise((ok) => call.once("drain", ok));
        }
      }
      process.stdout.write(`range ended sent=${sent} cancelled=${call.cancelled}\n`);
      if (!call.cancelled) call.end(trailers);
    },
    Total(call, callback) {
      const trailers = echoTag(call);
      let total = 0n;
      let read = 0;
      call.on("data", ({ value }) => {
        read++;
        total += BigInt(value);
      });
      call.on("cancelled", () => {
        process.stdout.write(`total ended read=${read} cancelled=true\n`);
      });
      call.on("end", () => {
        process.stdout.write(`total ended read=${read} cancelled=${call.cancelled}\n`);
        if (total > MAX || total < MIN) return callback(invalid("overflow"));
        callback(null, { total: String(total) }, trailers);
      });
    },
    Running(call) {
      const trailers = echoTag(call);
      let total = 0n;
      let failed = false;
      call.on("data", ({ value }) => {
        if (failed) return;
        total += BigInt(value);
        if (total > MAX || total < MIN) {
          failed = true;
          return call.emit("error", invalid("overflow"));
        }
        call.write({ total: String(total) });
      });
      call.on("end", () => failed || call.end(trailers));
    },
  });
  const port = await new Promise((ok, ko) =>
    s.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => e ? ko(e) : ok(p))
  );
  process.on("SIGTERM", () => s.tryShutdown(() => process.exit(0)));
  process.stdout.write(`listening grpc://127.0.0.1:${port}\n`);
}
