import assert from "node:assert/strict";
import { xmlRpc } from "../codecs/xml_rpc.ts";
import { combineServices, Peer, RpcError, withSystemMethods } from "../mod.ts";
import { createDispatcher } from "../rpc/plumbing.ts";
import { memoryPair } from "../rpc/testing.ts";

function xmlRpcPair(service: object) {
  const [a, b] = memoryPair();
  const server = new Peer(a, { codec: xmlRpc(), service: withSystemMethods(service) });
  const client = new Peer(b, { codec: xmlRpc() });
  return {
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.closed;
    },
  };
}

Deno.test("withSystemMethods() lists a plain service's methods and says it has no signatures", async () => {
  await using p = xmlRpcPair({ add: (a: number, b: number) => a + b, _hidden: () => 0 });
  const methods = await p.client.call<string[]>("system.listMethods");
  assert.ok(methods.includes("add") && !methods.includes("_hidden"));
  assert.equal(await p.client.call("system.methodSignature", ["add"]), "undef");
  assert.equal(await p.client.call("system.methodHelp", ["add"]), "");
  await assert.rejects(
    p.client.call("system.methodHelp", ["constructor"]),
    (e: unknown) => e instanceof RpcError && e.code === -32601,
  );
  // The system methods describe themselves too, as Python's server does.
  for (const name of methods.filter((m) => m.startsWith("system."))) {
    assert.match(await p.client.call<string>("system.methodHelp", [name]), /\w/, name);
    const [signature] = await p.client.call<string[][]>("system.methodSignature", [name]);
    assert.ok(Array.isArray(signature) && signature.length >= 1, name);
  }
  assert.deepEqual(await p.client.call("system.methodSignature", ["system.methodHelp"]), [[
    "string",
    "string",
  ]]);
});

Deno.test("system.multicall puts each outcome in its slot and refuses bad and recursive calls", async () => {
  await using p = xmlRpcPair({
    add: (a: number, b: number) => a + b,
    boom: () => {
      throw new Error("secret detail");
    },
  });
  const outcomes = await p.client.call("system.multicall", [[
    { methodName: "add", params: [1, 2] },
    { methodName: "boom", params: [] },
    { methodName: "system.multicall", params: [[]] },
    { methodName: 7, params: [] },
    { methodName: "add", params: "not an array" },
    { methodName: "missing", params: [] },
    "not a struct",
    { methodName: "system.listMethods", params: [] },
  ]]) as unknown[];
  assert.deepEqual(outcomes.slice(0, 7), [
    [3],
    { faultCode: -32603, faultString: "Internal error" },
    { faultCode: -32600, faultString: "Recursive system.multicall is forbidden" },
    { faultCode: -32600, faultString: "Each call needs a methodName and params array" },
    { faultCode: -32600, faultString: "Each call needs a methodName and params array" },
    { faultCode: -32601, faultString: "Method not found" },
    { faultCode: -32600, faultString: "Each call needs a methodName and params array" },
  ]);
  assert.ok(Array.isArray((outcomes[7] as unknown[])[0]));
  await assert.rejects(
    p.client.call("system.multicall", ["not an array"]),
    (e: unknown) => e instanceof RpcError && e.code === -32602,
  );
});

Deno.test("combineServices() searches its services in order", () => {
  const dispatch = createDispatcher(
    combineServices({ a: () => "first" }, { a: () => "second", b: () => "b" }),
  );
  const ctx = { id: 1, method: "a", signal: new AbortController().signal };
  assert.equal(dispatch("a")!.invoke([], ctx), "first");
  assert.equal(dispatch("b")!.invoke([], ctx), "b");
  assert.equal(dispatch("c"), undefined);
});

Deno.test("system.getCapabilities advertises nil and i8 under the conventional keys, as XML-RPC structs", async () => {
  await using p = xmlRpcPair({ add: (a: number, b: number) => a + b });
  const capabilities = await p.client.call<Record<string, unknown>>("system.getCapabilities");
  assert.deepEqual(Object.keys(capabilities).sort(), [
    "faults_interop",
    "i8",
    "introspection",
    "nil",
    "system.multicall",
    "xmlrpc",
  ]);
  for (const [key, capability] of Object.entries(capabilities)) {
    const { specUrl, specVersion } = capability as { specUrl: unknown; specVersion: unknown };
    assert.match(specUrl as string, /^https?:\/\/\S+$/, key);
    assert.ok(Number.isInteger(specVersion), key);
  }
  assert.deepEqual(capabilities.nil, {
    specUrl: "http://www.ontosys.com/xml-rpc/extensions.php",
    specVersion: 1,
  });
  assert.deepEqual(capabilities.i8, {
    specUrl: "http://ws.apache.org/xmlrpc/types.html",
    specVersion: 1,
  });
  // It describes itself as the other system methods do.
  assert.deepEqual(await p.client.call("system.methodSignature", ["system.getCapabilities"]), [[
    "struct",
  ]]);
});
