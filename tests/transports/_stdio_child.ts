/**
 * The transport suite's server over stdio, run as a child process by
 * `stdio_test.ts`: the suite's service with a length prefix, plus `relayCall`
 * and `relayNotify`, through which the suite calls the parent back from here.
 *
 * Run: `deno run --allow-env tests/transports/_stdio_child.ts <codec name> <maxFrameSize>`
 *
 * @module
 */

import { jsonRpc } from "../../codecs/json_rpc.ts";
import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { serveStdio } from "../../rpc/transports/stdio.ts";
import type { RpcParams } from "../../rpc/types.ts";
import { transportService } from "../../testing/transport_suite.ts";

const CODECS = { jsonrpc: jsonRpc, "msgpack-rpc": msgpackRpc } as const;

const [codecName = "jsonrpc", maxFrameSize = "4096"] = Deno.args;
const makeCodec = CODECS[codecName as keyof typeof CODECS];
if (makeCodec === undefined) throw new TypeError(`no codec named ${codecName}`);

const server = serveStdio({
  codec: makeCodec(),
  framing: lengthPrefix({ maxFrameSize: Number(maxFrameSize) }),
  service: {
    ...transportService(),
    relayCall: (method: string, params?: RpcParams) => server.peer.call(method, params),
    relayNotify: (method: string, params?: RpcParams) => server.peer.notify(method, params),
  },
});
await server.finished;
