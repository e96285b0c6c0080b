import { testCases } from "../../testing/cases.ts";
import { transportSuite } from "../../testing/transport_suite.ts";
import { socketHarness } from "./_socket.ts";

// Each server gets its own directory for its socket, removed when it closes.
const dirs: string[] = [];

testCases(transportSuite(socketHarness("Unix socket", {
  listen: async () => {
    const dir = await Deno.makeTempDir({ prefix: "parley-suite-" });
    dirs.push(dir);
    return { transport: "unix", path: `${dir}/server.sock` };
  },
  reach: (address) => address,
  cleanUp: async () => {
    for (const dir of dirs.splice(0)) await Deno.remove(dir, { recursive: true });
  },
})));
