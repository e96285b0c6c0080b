/**
 * The OpenRPC document asks each zod schema for its JSON Schema (the
 * schema's own `toJSONSchema`), so that `rpc/openrpc.ts` does not load zod:
 * what it says must be what `z.toJSONSchema` says, schema by schema.
 *
 * @module
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { openRpcDocument, withOpenRpc } from "../rpc/openrpc.ts";
import { defineService, method } from "../rpc/service.ts";
import { Peer } from "../rpc/peer.ts";
import { memoryPair } from "../rpc/testing.ts";
import { jsonRpc } from "../codecs/json_rpc.ts";

const schemas: z.ZodType[] = [
  z.number(),
  z.number().int().min(0),
  z.string().email(),
  z.enum(["a", "b"]),
  z.object({ name: z.string(), tags: z.array(z.string()).optional() }),
  z.union([z.string(), z.null()]),
  z.bigint(), // unrepresentable: "any"
  z.date(),
  z.string().transform((s) => s.length), // io: "input"
  z.record(z.string(), z.number()),
  z.tuple([z.number(), z.boolean()]),
  z.number().default(3),
];

function expected(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { unrepresentable: "any", io: "input" });
  return rest;
}

Deno.test("openRpcDocument: each param's and result's JSON Schema is z.toJSONSchema's", () => {
  const service = defineService(Object.fromEntries(schemas.map((schema, i) => [
    `m${i}`,
    method({
      params: z.tuple([schema, z.string().optional()]),
      names: ["value", "note"],
      result: schema,
      handler: () => undefined as never,
    }),
  ])));
  const doc = openRpcDocument(service, { title: "t", version: "1" });
  assert.equal(doc.methods.length, schemas.length);
  for (const [i, schema] of schemas.entries()) {
    const m = doc.methods.find((m) => m.name === `m${i}`)!;
    assert.deepEqual(m.params[0], { name: "value", schema: expected(schema), required: true });
    assert.deepEqual(m.params[1], {
      name: "note",
      schema: expected(z.string().optional()),
      required: false,
    });
    assert.deepEqual(m.result, { name: "result", schema: expected(schema) });
    assert.equal(m.paramStructure, "either");
  }
});

Deno.test("openRpcDocument: a schema that cannot describe itself is {} (anything goes)", () => {
  const loose = { _zod: z.number()._zod, safeParse: (v: unknown) => z.number().safeParse(v) };
  const doc = openRpcDocument(defineService({
    f: method({
      params: z.tuple([z.number()]),
      result: loose as unknown as z.ZodNumber,
      handler: (n) => n,
    }),
  }));
  assert.deepEqual(doc.methods[0]!.result, { name: "result", schema: {} });
  assert.deepEqual(doc.methods[0]!.params[0]!.schema, { type: "number" });
});

Deno.test("rpc.discover over a real peer pair answers the document", async () => {
  const service = withOpenRpc({ add: (a: number, b: number) => a + b }, { title: "calc" });
  const [a, b] = memoryPair();
  await using server = new Peer(a, { codec: jsonRpc(), service });
  await using client = new Peer(b, { codec: jsonRpc() });
  const doc = await client.call("rpc.discover") as Record<string, unknown>;
  assert.deepEqual(doc, {
    openrpc: "1.3.2",
    info: { title: "calc", version: "0.0.0" },
    methods: [{
      name: "add",
      params: [{ name: "arg0", schema: {} }, { name: "arg1", schema: {} }],
      result: { name: "result", schema: {} },
      paramStructure: "by-position",
    }],
  });
  void server;
});
