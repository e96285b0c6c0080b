/**
 * The Greeter that the telemetry tests serve (tests/otel_test.ts, and the
 * child of tests/otel_deno_test.ts): a greeting, a call the caller is
 * denied, a handler's bug, and a call whose handler calls on.
 */

import { loadProto, protoService } from "../codecs/protobuf.ts";
import { ConnectError } from "../protocols/connect.ts";

/** The Greeter's schema. */
export const schema = loadProto(`
  syntax = "proto3";
  package demo;
  message Name { string name = 1; }
  service Greeter {
    rpc Greet(Name) returns (Name);
    rpc Admin(Name) returns (Name);
    rpc Crash(Name) returns (Name);
    rpc Relay(Name) returns (Name);
  }
`);

/** The Greeter's handlers; `Relay` answers with what `relay` gives for the name. */
export function service(relay: (name: string) => Promise<unknown>) {
  return protoService(schema, "demo.Greeter", {
    Greet: ({ name }: { name: string }) => ({ name: `Hello, ${name}` }),
    Admin: () => {
      throw new ConnectError("permission_denied", "Admin needs a token");
    },
    Crash: () => {
      throw new Error("handler bug");
    },
    Relay: async ({ name }: { name: string }) => ({ name: String(await relay(name)) }),
  });
}
