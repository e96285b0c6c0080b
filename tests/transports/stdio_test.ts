import { msgpackRpc } from "../../codecs/msgpack_rpc.ts";
import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import { spawnStdio, type StdioProcess } from "../../rpc/transports/stdio.ts";
import { testCases } from "../../testing/cases.ts";
import {
  type TransportClient,
  type TransportHarness,
  transportSuite,
} from "../../testing/transport_suite.ts";

const REPO_ROOT = new URL("../../", import.meta.url).pathname;
const CHILD = new URL("./_stdio_child.ts", import.meta.url).pathname;

// Each connection is a child `deno` serving the suite's service over its
// stdin and stdout; the server "closing" is every child killed at once.
const stdio: TransportHarness = {
  name: "stdio",
  start: ({ codec, maxFrameSize }) => {
    const children: StdioProcess[] = [];
    return Promise.resolve({
      connect: (service) => {
        const child = spawnStdio(Deno.execPath(), {
          args: ["run", "--allow-env", CHILD, codec.name, String(maxFrameSize)],
          cwd: REPO_ROOT,
          codec,
          framing: lengthPrefix(),
          ...(service === undefined ? {} : { service }),
        });
        children.push(child);
        return Promise.resolve(child);
      },
      // The child's end, driven through the child: it calls this process.
      serverEnd: (): TransportClient => {
        const child = children.at(-1)!;
        return {
          call: (method, params) => child.call("relayCall", [method, params ?? []]),
          notify: async (method, params) => {
            await child.call("relayNotify", [method, params ?? []]);
          },
          close: () => child.close(),
        };
      },
      released: async () => void await children.at(-1)!.status,
      close: async () => {
        for (const child of children) {
          try {
            child.child.kill("SIGKILL");
          } catch {
            // Exited already.
          }
        }
        await Promise.all(children.map((child) => child.status));
      },
    });
  },
};

testCases(transportSuite(stdio));
testCases(transportSuite(stdio, { codec: msgpackRpc() }));
