// An Apache Thrift server on Node (the `thrift` npm package) implementing the
// Calculator contract of /work/shared/interop/README.md, for parley's Thrift
// client to call.
//
//   node thrift_server.mjs [--transport framed|buffered|http]
//                          [--protocol binary|compact] [--multiplexed NAME]
//                          [--thrift-dir DIR]
//
// `--transport` (default framed): thrift.createServer with TFramedTransport or
// TBufferedTransport, or `http`: thrift.createWebServer serving POST /thrift
// (buffered inside the body). `--protocol` (default binary): TBinaryProtocol
// or TCompactProtocol. `--multiplexed NAME`: the service is registered as NAME
// in a thrift.MultiplexedProcessor (createMultiplexServer), so calls are named
// `NAME:add` on the wire. The processor is generated at run time from
// DIR/calculator.thrift by `thrift --gen js:node` (`--thrift-dir`, by default
// examples/calculator of the repository holding this script's real location).
//
// Binds 127.0.0.1 on an ephemeral port and prints exactly one line,
// `listening tcp://127.0.0.1:PORT` or `listening http://127.0.0.1:PORT/thrift`,
// to stdout when ready (logs go to stderr). Exits 0 on SIGTERM or SIGINT. Bad
// usage: exit 2.
//
// The handlers take a callback (the generated processor's other style goes
// through `thrift.Q`, which the thrift package no longer has). Around the
// generated processor, a guard does what the contract asks and the package
// does not:
// - a message that is not a call or a one-way call is answered with
//   TApplicationException INVALID_MESSAGE_TYPE (the generated processor
//   would run it as a call);
// - an unknown method is answered with TApplicationException UNKNOWN_METHOD
//   written here: the package's TApplicationException.write leaves the type
//   out (it writes `this.code`, never set), so the reader sees UNKNOWN;
// - multiplexed, so is an unknown service name (MultiplexedProcessor throws,
//   and the server then closes the connection);
// - over HTTP, a one-way call gets an empty 200 reply (createWebServer would
//   never answer the request).

import { Buffer } from "node:buffer";
import { realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import thrift from "thrift";
import { loadThriftGenerated } from "./_generated.mjs";

// --- arguments ---------------------------------------------------------------

const USAGE = "usage: node thrift_server.mjs [--transport framed|buffered|http] " +
  "[--protocol binary|compact] [--multiplexed NAME] [--thrift-dir DIR]\n";
function usage(why) {
  process.stderr.write(`thrift_server: ${why}\n${USAGE}`);
  process.exit(2);
}

const FLAGS = ["--transport", "--protocol", "--multiplexed", "--thrift-dir"];
const options = {};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!FLAGS.includes(arg)) usage(`unexpected argument ${arg}`);
    else if (argv[i + 1] === undefined) usage(`${arg} needs a value`);
    else options[arg] = argv[++i];
  }
}
const transportName = options["--transport"] ?? "framed";
const protocolName = options["--protocol"] ?? "binary";
if (!["framed", "buffered", "http"].includes(transportName)) usage("bad --transport");
if (!["binary", "compact"].includes(protocolName)) usage("bad --protocol");
const serviceName = options["--multiplexed"];
if (serviceName === "") usage("--multiplexed needs a service name");
const here = dirname(realpathSync(fileURLToPath(import.meta.url)));
const thriftDir = resolve(options["--thrift-dir"] ?? resolve(here, "../../../examples/calculator"));

// --- generated code ----------------------------------------------------------

const { Calculator, types } = loadThriftGenerated(thriftDir);
const { InvalidOperation } = types;
const { Thrift } = thrift;

// --- the Calculator ----------------------------------------------------------

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const [ADD, SUBTRACT, MULTIPLY, DIVIDE] = [1, 2, 3, 4];

/** A check of an i32 result: the value, or an InvalidOperation(op, "overflow"). */
const i32 = (value, op) =>
  value < I32_MIN || value > I32_MAX
    ? { error: new InvalidOperation({ whatOp: op, why: "overflow" }) }
    : { value: Number(value) };

/** Computes `work`: `{value}` or `{error}` (an InvalidOperation). */
function calculate(work) {
  // Absent fields are their defaults: 0, and op 0, which is not an operation.
  const num1 = work?.num1 ?? 0;
  const num2 = work?.num2 ?? 0;
  const op = work?.op ?? 0;
  switch (op) {
    case ADD:
      return i32(num1 + num2, op);
    case SUBTRACT:
      return i32(num1 - num2, op);
    case MULTIPLY:
      return i32(BigInt(num1) * BigInt(num2), op); // exact: a product can exceed 2^53
    case DIVIDE:
      if (num2 === 0) {
        return { error: new InvalidOperation({ whatOp: op, why: "Cannot divide by 0" }) };
      }
      return i32(Math.trunc(num1 / num2), op); // toward zero; -2^31 / -1 overflows
    default:
      return { error: new InvalidOperation({ whatOp: op, why: "Invalid operation" }) };
  }
}

/** Answers `done` with `{value}` or `{error}`. */
const reply = (done, { value, error }) => (error ? done(error) : done(null, value));

// Callback style: the generated processor passes a callback when a handler
// takes one more parameter than the method has. The error must be null (not
// undefined) for the result to be sent.
const handler = {
  ping: (done) => done(null),
  add: (num1, num2, done) => reply(done, i32((num1 ?? 0) + (num2 ?? 0), 1)),
  calculate: (_logid, work, done) => reply(done, calculate(work)),
  echo: (text, done) => done(null, text ?? ""),
  echoBinary: (data, done) => done(null, data ?? Buffer.alloc(0)),
  echoShape: (shape, done) => done(null, shape ?? new types.Shape()),
  sum: (values, done) => {
    // Exact, from the Int64s' bytes: only the final total is range-checked,
    // so [i64max, 1, -1] is fine.
    const total = (values ?? []).reduce((acc, v) => acc + thrift.toBigInt(v), 0n);
    if (total < I64_MIN || total > I64_MAX) {
      done(new InvalidOperation({ whatOp: 1, why: "overflow" }));
    } else {
      done(null, thrift.fromBigInt(total));
    }
  },
  zip: () => {},
};

// --- the processor -----------------------------------------------------------

const calculator = new Calculator.Processor(handler);
const processor = serviceName ? new thrift.MultiplexedProcessor() : calculator;
if (serviceName) processor.registerProcessor(serviceName, calculator);

/**
 * Writes a TApplicationException's fields. Not TApplicationException.write:
 * in thrift 0.24.0 that writes `this.code`, which is never set, instead of
 * the type, so the type never goes out (a reader sees UNKNOWN).
 */
function writeApplicationException(output, type, message) {
  output.writeStructBegin("TApplicationException");
  output.writeFieldBegin("message", Thrift.Type.STRING, 1);
  output.writeString(message);
  output.writeFieldEnd();
  output.writeFieldBegin("type", Thrift.Type.I32, 2);
  output.writeI32(type);
  output.writeFieldEnd();
  output.writeFieldStop();
  output.writeStructEnd();
}

/**
 * Wraps the processor with the contract's answers to what it does not handle
 * well (see the top of the file). Over HTTP, also answers one-way calls.
 */
function guard(inner, http) {
  const { CALL, ONEWAY, EXCEPTION } = Thrift.MessageType;
  const { INVALID_MESSAGE_TYPE, UNKNOWN_METHOD } = Thrift.TApplicationExceptionType;
  return {
    process(input, output) {
      const begin = input.readMessageBegin();
      const { fname, mtype, rseqid } = begin;
      const refuse = (type, message, name = fname) => {
        input.skip(Thrift.Type.STRUCT);
        input.readMessageEnd();
        output.writeMessageBegin(name, EXCEPTION, rseqid);
        writeApplicationException(output, type, message);
        output.writeMessageEnd();
        output.flush();
      };
      if (mtype !== CALL && mtype !== ONEWAY) {
        return refuse(INVALID_MESSAGE_TYPE, `message type ${mtype} is not a call`);
      }
      const prefix = `${serviceName}:`;
      if (serviceName && !fname.startsWith(prefix)) {
        return refuse(UNKNOWN_METHOD, `Unknown service in ${fname}`);
      }
      const method = serviceName ? fname.slice(prefix.length) : fname;
      if (typeof calculator[`process_${method}`] !== "function") {
        // Named as the reply of a method that exists would be: without the service.
        return refuse(UNKNOWN_METHOD, `Unknown function ${method}`, method);
      }
      // The inner processor reads the message's beginning again: give it this one.
      const again = Object.create(input);
      again.readMessageBegin = () => begin;
      if (!http || mtype !== ONEWAY) return inner.process(again, output);
      let answered = false;
      const flush = output.flush;
      output.flush = function () {
        answered = true;
        return flush.call(this);
      };
      inner.process(again, output);
      // No reply to a one-way call: end the HTTP request with an empty 200.
      if (!answered) output.trans.onFlush(Buffer.alloc(0));
    },
  };
}

// --- the server --------------------------------------------------------------

const Protocol = protocolName === "compact" ? thrift.TCompactProtocol : thrift.TBinaryProtocol;
const http = transportName === "http";
const server = http
  ? thrift.createWebServer({
    services: {
      "/thrift": {
        processor: guard(processor, true),
        transport: thrift.TBufferedTransport,
        protocol: Protocol,
      },
    },
  })
  : thrift.createMultiplexServer(guard(processor, false), {
    transport: transportName === "framed" ? thrift.TFramedTransport : thrift.TBufferedTransport,
    protocol: Protocol,
  });

// The library emits the errors of a connection (a message it cannot read, a
// reset) on the server: log them instead of crashing.
server.on("error", (error) => process.stderr.write(`thrift_server: ${error?.stack ?? error}\n`));
// Replies go out at once (TCP_NODELAY), as the library's client sends its
// calls: with Nagle's algorithm on, a reply held back behind an
// unacknowledged one waits for the peer's delayed ACK (~40 ms).
const sockets = new Set();
server.on("connection", (socket) => {
  socket.setNoDelay(true);
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const url = http ? `http://127.0.0.1:${port}/thrift` : `tcp://127.0.0.1:${port}`;
  process.stdout.write(`listening ${url}\n`);
});

// SIGTERM / SIGINT: stop accepting, end the connections (every call is
// answered synchronously, so none is in flight between two events), exit 0.
function shutdown(signal) {
  process.stderr.write(`thrift_server: ${signal}, closing\n`);
  server.close(() => process.exit(0));
  for (const socket of sockets) socket.end();
  setTimeout(() => process.exit(0), 2_000).unref();
}
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
