/**
 * The CLI's help texts, one per command (`parley help COMMAND`), the codec
 * lists drawn from the registry so that they never go stale.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HELP } from "./help.ts";
 *
 * assert.match(HELP.main!, /^parley: call, list and serve RPC services/);
 * ```
 *
 * @module
 */

import { CODEC_REGISTRY, type CodecEntry } from "../codecs/registry.ts";
import { RPYC_HELP } from "./rpyc.ts";
import { SERVE_CODECS } from "./serve.ts";

// The codecs as help lists them, from the registry: the default first, an
// IDL's flag after its codec's name; serve speaks those without an IDL.
const codecList = (entries: readonly CodecEntry[], flags: boolean) =>
  entries.map((entry, i) =>
    `${entry.name}${i === 0 ? " (default)" : ""}${
      flags && entry.idl !== undefined ? ` (--${entry.idl.flag} FILE)` : ""
    }`
  ).join(", ");

/**
 * The help of each command by name, `main` for `parley help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HELP } from "./help.ts";
 *
 * assert.ok("call" in HELP);
 * ```
 */
export const HELP: Record<string, string> = {
  main: `parley: call, list and serve RPC services

Usage:
  parley call URL METHOD [ARGS...]   call a method and print its result
  parley notify URL METHOD [ARGS...] send a notification (no reply)
  parley list URL                    the methods a server describes
  parley serve MODULE                serve a module's default export
  parley help COMMAND                more about a command

URLs: tcp://HOST:PORT, tls://HOST:PORT, unix:/PATH (a raw stream), http(s)://HOST:PORT/PATH,
      http+unix:///SOCKET:/PATH or http+unix://%2FSOCKET/PATH (HTTP over a Unix socket),
      ws(s)://HOST:PORT/PATH, stdio:COMMAND ARGS (spawns it, talks over its pipes),
      grpc://HOST:PORT and grpcs://HOST:PORT (gRPC: the schema from the server's
      reflection, or --proto FILE; --codec does not apply), rpyc://HOST:PORT (Python's RPyC)
Codecs (--codec): ${codecList(CODEC_REGISTRY, true)}

Examples:
  parley call tcp://127.0.0.1:4000 add 1 2
  parley call http://127.0.0.1:4000/RPC2 --codec xmlrpc system.listMethods
  parley call http+unix:///tmp/supervisor.sock:/RPC2 --codec xmlrpc supervisor.getState
  parley list tcp://127.0.0.1:4000
  parley list grpc://127.0.0.1:50051
  parley call grpc://127.0.0.1:50051 interop.Calculator/Add num1=1 num2=2
  parley call rpyc://127.0.0.1:18861 add 1 2
  parley call "stdio:deno lsp" initialize processId=null rootUri=null capabilities={}`,
  call: `parley call URL METHOD [ARGS...] [options]

Arguments are JSON values (positional params) or key=value pairs (named
params, the value as JSON or else as a string). Integers beyond 2^53 are
kept exact. The result is printed as indented JSON (bytes as base64, big
integers exact); an error's code and message go to stderr, exit status 1.

gRPC (grpc://, grpcs://): METHOD is package.Service/Method, the request
message is the one JSON object or the key=value fields (proto3 JSON: int64
as a number or a string, bytes as base64, enums by name or number), its
schema the server's own through reflection unless --proto is given. A
server-streaming method prints one JSON line per message as they come; the
gRPC status of an error is its code (3 INVALID_ARGUMENT, 5 NOT_FOUND…).

Options:
  --codec C            ${codecList(CODEC_REGISTRY, false)}
  --framing F          byte streams: newline, length-prefix, varint, content-length,
                       self-delimiting (framed, buffered for thrift); each codec has a default
  --header "K: V"      an HTTP header or gRPC metadata (repeatable), e.g. --header "authorization: Bearer x"
  --timeout MS         give up after MS milliseconds (exit status 4)
  --ca FILE            trust this CA (PEM) for tls://, https://, wss:// and grpcs:// (repeatable)
  --proto FILE         protobuf: the .proto file (repeatable; imports are read next to it)
  --thrift FILE        thrift: the .thrift file; --protocol binary|compact; --service NAME
  --json               print compact JSON only (no colours, no timing)
${RPYC_HELP}

Examples:
  parley call tcp://127.0.0.1:4000 add 40 2
  parley call tcp://127.0.0.1:4000 add num1=40 num2=2
  parley call http://127.0.0.1:8080/ --codec protobuf --proto calculator.proto \\
    interop.Calculator/Add '{"num1": 1, "num2": 2}'
  parley call tcp://127.0.0.1:9090 --codec thrift --thrift calculator.thrift sum '[9223372036854775807, 1, -1]'
  parley call grpc://127.0.0.1:50051 interop.Calculator/Sum '{"values": [9223372036854775807, 1, -1]}'
  parley call grpcs://localhost:50051 --ca ca.pem --proto calculator.proto \\
    interop.Calculator/Range start=1 count=3
  parley call "stdio:nvim --embed --headless" --codec msgpack nvim_eval '"1 + 2"'
  parley call rpyc://127.0.0.1:18812 --classic math.sqrt 2`,
  notify: `parley notify URL METHOD [ARGS...] [options]

Sends a notification (a call without a reply); the options are call's.`,
  list: `parley list URL [options]

Prints the methods the server describes: JSON-RPC and msgpack-rpc servers
through OpenRPC's rpc.discover, XML-RPC servers through system.listMethods,
methodSignature and methodHelp; gRPC servers (grpc://, grpcs://) through
gRPC server reflection, each method with its kind (a "stream" request or
reply); protobuf and Thrift from the IDL given with --proto / --thrift.
--json prints the document itself.

Examples:
  parley list tcp://127.0.0.1:4000
  parley list grpc://127.0.0.1:50051
  parley list grpcs://localhost:50051 --ca ca.pem --proto calculator.proto
  parley list http://127.0.0.1:8000/RPC2 --codec xmlrpc
  parley list http+unix://%2Ftmp%2Fsupervisor.sock/RPC2 --codec xmlrpc`,
  serve: `parley serve MODULE [options]

Serves the default export of a TypeScript module (an object of functions, a
class instance, or a defineService() definition) and prints "listening URL".
JSON-RPC and msgpack-rpc services describe themselves at rpc.discover,
XML-RPC ones through system.*. SIGINT or SIGTERM stops it.

Options:
  --codec C          ${codecList(SERVE_CODECS, false)}
  --transport T      tcp (default), unix (--path), http, ws, stdio
  --framing F        as for call
  --host H --port P  where to listen (127.0.0.1, 0 = a free port)

Examples:
  parley serve ./calculator.ts --port 4000
  parley serve ./calculator.ts --codec xmlrpc --transport http --port 8000`,
};
