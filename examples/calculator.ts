/**
 * The example server of the interop contract:
 *
 * ```sh
 * deno task calculator --codec jsonrpc|xmlrpc|msgpack|protobuf|thrift --transport tcp|unix|http|ws [--framing F] [--protocol binary|compact] [--host H] [--port P]
 * deno task calculator --transport tls|https|wss --cert server.pem --key server-key.pem
 * deno task calculator --codec protobuf --transport grpc|grpcs [--cert server.pem --key server-key.pem] [--client-ca ca.pem]
 * deno task calculator --codec rpyc --transport tcp|tls|unix
 * ```
 *
 * Prints exactly one line, `listening URL`, to stdout when ready; logs go to
 * stderr. SIGINT or SIGTERM: stops accepting, finishes calls in flight, exits 0.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { serveHttp } from "../rpc/transports/http.ts";
import { connectHandler } from "../protocols/connect.ts";
import { ERROR_DETAILS } from "./calculator/protobuf.ts";
import { echoRequestTag, serveCalculatorGrpc } from "./calculator/grpc.ts";
import { type ListenAddress, serveTcp } from "../rpc/transports/tcp.ts";
import { createCalculator } from "./calculator/service.ts";
import { rpycCalculator } from "./calculator/rpyc.ts";
import { serveRpyc } from "../rpc/transports/rpyc.ts";
import { lineLogger, logErrors, logging, peerStreams, withSystemMethods } from "../mod.ts";
import { withOpenRpc } from "../rpc/openrpc.ts";
import { codecByName, framingByName } from "./calculator/wiring.ts";

const USAGE = `Usage: deno task calculator --codec C --transport T [options]

Options:
  --codec C        jsonrpc (default), xmlrpc, msgpack, protobuf (Connect and gRPC-Web over
                   http; gRPC over grpc and grpcs), thrift, rpyc (Python's RPyC; tcp, tls,
                   unix)
  --transport T    tcp (default), unix, http, ws, tls, https, wss, grpc (h2c), grpcs (TLS);
                   grpc and grpcs serve protobuf, the codec they imply
  --framing F      newline (jsonrpc's default), length-prefix (xmlrpc's and protobuf's),
                   varint, content-length, self-delimiting (msgpack's); for thrift
                   framed (its default, = length-prefix) and buffered (= self-delimiting)
  --protocol P     thrift's protocol: binary (default) or compact
  --multiplexed    thrift: TMultiplexedProtocol, the service named Calculator
  --host H         default 127.0.0.1
  --port P         default 0 (a free port)
  --path FILE      the socket's path, for --transport unix
  --cert FILE      the server's certificate chain (PEM), for tls, https, wss and grpcs
  --key FILE       its private key (PEM), for tls, https, wss and grpcs
  --client-ca FILE grpcs: require client certificates signed by this CA (PEM; mutual TLS)
  --expose-errors  send handler error details (development only)
  --log-level L    debug (every call), info (the default: clients' mistakes), warn, error
                   (the server's own faults); to stderr
  --log-format F   text (the default) or json (one object per line)`;

function fail(message: string): never {
  console.error(`calculator: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        codec: { type: "string" },
        transport: { type: "string", default: "tcp" },
        framing: { type: "string" },
        protocol: { type: "string", default: "binary" },
        multiplexed: { type: "boolean", default: false },
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "0" },
        path: { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        "client-ca": { type: "string" },
        "expose-errors": { type: "boolean", default: false },
        "log-level": { type: "string", default: "info" },
        "log-format": { type: "string", default: "text" },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
})();

if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}

if (values.protocol !== "binary" && values.protocol !== "compact") {
  fail(`unknown protocol "${values.protocol}" (binary or compact)`);
}
// gRPC carries protobuf alone: --transport grpc implies it.
const grpc = values.transport === "grpc" || values.transport === "grpcs";
const codecName = values.codec ?? (grpc ? "protobuf" : "jsonrpc");
if (grpc && codecName !== "protobuf") {
  fail(`--transport ${values.transport} carries protobuf, not "${codecName}"`);
}
const level = values["log-level"];
if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
  fail(`unknown log level "${level}" (debug, info, warn or error)`);
}
const format = values["log-format"];
if (format !== "text" && format !== "json") fail(`unknown log format "${format}" (text or json)`);
// Calls at debug, clients' mistakes at info, the server's own faults at
// error; stdout holds only the `listening` line.
const logger = lineLogger((line) => console.error(line), { level, format });
const interceptors = [logging(logger, { calls: level === "debug" })];
const onError = logErrors(logger);
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port "${values.port}"`);
// Mutual TLS needs a client CA option only gRPC's server has a listener for here.
if (values["client-ca"] !== undefined && values.transport !== "grpcs") {
  fail("--client-ca is for --transport grpcs");
}

if (codecName === "rpyc") {
  if (values.framing !== undefined) fail("--codec rpyc has its own framing: no --framing");
  await runUntilStopped(serveRpycCalculator());
}

const wiring = codecByName(codecName, values.protocol, values.multiplexed) ??
  fail(`unknown codec "${codecName}"`);
const framing = framingByName(values.framing ?? wiring.defaultFraming, wiring.codec) ??
  fail(`unknown framing "${values.framing}" for codec "${codecName}"`);

const calculator = createCalculator(wiring.calculator);
// XML-RPC servers answer system.listMethods, methodHelp, methodSignature and
// multicall; the others describe themselves with OpenRPC at rpc.discover.
const service = wiring.service ??
  (wiring.codec.name === "xmlrpc"
    ? withSystemMethods(calculator)
    : withOpenRpc(calculator, { title: "Calculator", version: "1.0.0" }));

// The certificate and key of --transport tls, https and wss, as PEM text.
function certificate(): { cert: string; key: string } {
  return { cert: readPem("cert"), key: readPem("key") };
}

// A PEM file named by an option that --transport needs.
function readPem(option: "cert" | "key" | "client-ca"): string {
  const file = values[option] ?? fail(`--transport ${values.transport} needs --cert and --key`);
  try {
    return Deno.readTextFileSync(file);
  } catch (error) {
    return fail(`cannot read --${option} ${file}: ${(error as Error).message}`);
  }
}

function serveSocket(
  address: ListenAddress,
): { url: string; shutdown(): Promise<void>; finished: Promise<void> } {
  return serveTcp(address, {
    codec: wiring.codec,
    streams: peerStreams, // the protobuf envelope's Range, Total and Running
    framing,
    service,
    exposeErrors: values["expose-errors"],
    interceptors,
    onError,
  });
}

let server: { url: string; shutdown(): Promise<void>; finished: Promise<void> };
switch (values.transport) {
  case "tcp":
    server = serveSocket({ hostname: values.host, port });
    break;
  case "tls":
    server = serveSocket({ transport: "tls", hostname: values.host, port, ...certificate() });
    break;
  case "unix":
    server = serveSocket({
      transport: "unix",
      path: values.path ?? fail("--transport unix needs --path"),
    });
    break;
  case "http":
  case "https": {
    // protobuf speaks the Connect protocol: its paths are the methods'.
    const connect = wiring.schema !== undefined
      ? {
        "/": connectHandler({
          schema: wiring.schema,
          service,
          errorDetails: ERROR_DETAILS,
          errorCode: () => "invalid_argument", // InvalidOperation
          onCall: echoRequestTag, // the contract's x-request-tag, Connect and gRPC-Web alike
          exposeErrors: values["expose-errors"],
          interceptors,
          onError,
        }),
      }
      : undefined;
    const http = serveHttp({
      hostname: values.host,
      port,
      ...(values.transport === "https" ? certificate() : {}),
      routes: connect !== undefined ? {} : {
        [wiring.httpPath]: {
          codec: wiring.codec,
          service,
          exposeErrors: values["expose-errors"],
          interceptors,
          // Apache Thrift's HTTP clients take nothing but 200, even for oneway calls.
          ...(wiring.codec.name === "thrift" ? { noReplyStatus: 200 as const } : {}),
        },
      },
      ...(connect !== undefined ? { handlers: connect } : {}),
      onError,
    });
    server = {
      url: `${http.url}${wiring.httpPath}`,
      shutdown: http.shutdown,
      finished: http.finished,
    };
    break;
  }
  case "ws":
  case "wss": {
    // WebSocket at /rpc for every codec (POST works there too); XML-RPC's
    // HTTP path stays /RPC2.
    const route = {
      codec: wiring.codec,
      service,
      exposeErrors: values["expose-errors"],
      interceptors,
    };
    const http = serveHttp({
      hostname: values.host,
      port,
      ...(values.transport === "wss" ? certificate() : {}),
      routes: wiring.httpPath === "/"
        ? { "/rpc": { ...route, websocket: { streams: peerStreams } } }
        : { [wiring.httpPath]: route, "/rpc": { ...route, websocket: { streams: peerStreams } } },
      onError,
    });
    server = {
      url: `${http.url.replace(/^http/, "ws")}/rpc`,
      shutdown: http.shutdown,
      finished: http.finished,
    };
    break;
  }
  case "grpc":
  case "grpcs":
    server = await serveCalculatorGrpc({
      hostname: values.host,
      port,
      ...(values.transport === "grpcs"
        ? {
          tls: {
            ...certificate(),
            ...(values["client-ca"] === undefined ? {} : { clientCa: [readPem("client-ca")] }),
          },
        }
        : {}),
      exposeErrors: values["expose-errors"],
      interceptors,
      onError,
    });
    break;
  default:
    fail(`transport "${values.transport}" is not available for codec "${codecName}" yet`);
}
await runUntilStopped(server);

// Prints the one `listening` line, then serves until SIGINT or SIGTERM:
// stops accepting, finishes what is in flight, exits 0.
async function runUntilStopped(
  server: { url: string; shutdown(): Promise<void>; finished: Promise<void> },
): Promise<never> {
  console.log(`listening ${server.url}`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down");
    await server.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  Deno.exit(0);
}

// --codec rpyc: the root Python's rpyc.connect() reaches, on a byte stream.
function serveRpycCalculator() {
  const options = {
    root: rpycCalculator(),
    onError,
    includeLocalTraceback: values["expose-errors"],
  };
  switch (values.transport) {
    case "tcp":
      return serveRpyc({ hostname: values.host, port }, options);
    case "tls":
      return serveRpyc(
        { transport: "tls", hostname: values.host, port, ...certificate() },
        options,
      );
    case "unix":
      return serveRpyc(
        { transport: "unix", path: values.path ?? fail("--transport unix needs --path") },
        options,
      );
    default:
      return fail(`--codec rpyc is served over tcp, tls or unix, not "${values.transport}"`);
  }
}
