import assert from "node:assert/strict";
import { z } from "zod";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { defineService, Float, float, method, Peer } from "../mod.ts";
import { markFloats, unwrapFloats } from "../rpc/plumbing.ts";
import { memoryPair } from "../rpc/testing.ts";
import type { Frame, MessageStream } from "../rpc/types.ts";

Deno.test("markFloats() wraps the numbers that stand where the schema has a double", () => {
  const schema = z.object({
    i: z.number().int(),
    d: z.number(),
    list: z.array(z.number()).optional(),
    map: z.record(z.string(), z.number()),
    pair: z.tuple([z.number().int(), z.number()]),
    either: z.union([z.string(), z.number()]),
    nested: z.lazy(() => z.object({ x: z.number().nullable() })),
  });
  const marked = markFloats(schema, {
    i: 1,
    d: 2,
    list: [0, -0, 1.5],
    map: { a: 3 },
    pair: [4, 5],
    either: 6,
    nested: { x: null },
  });
  assert.deepEqual(marked, {
    i: 1,
    d: new Float(2),
    list: [new Float(0), new Float(-0), new Float(1.5)],
    map: { a: new Float(3) },
    pair: [4, new Float(5)],
    either: new Float(6),
    nested: { x: null },
  });
  assert.ok(Object.is((marked as { list: Float[] }).list[1]!.value, -0));
  // A schema without doubles hands the same value back.
  const value = { a: [1, 2] };
  assert.equal(markFloats(z.object({ a: z.array(z.number().int()) }), value), value);
  assert.deepEqual(unwrapFloats(marked), {
    i: 1,
    d: 2,
    list: [0, -0, 1.5],
    map: { a: 3 },
    pair: [4, 5],
    either: 6,
    nested: { x: null },
  });
});

// The frames a client writes, for checking what travels.
function tap(stream: MessageStream, frames: string[]): MessageStream {
  const writable = new TransformStream<Frame | readonly Frame[], Frame | readonly Frame[]>({
    transform(chunk, controller) {
      for (const frame of Array.isArray(chunk) ? chunk : [chunk]) frames.push(String(frame));
      controller.enqueue(chunk);
    },
  });
  writable.readable.pipeTo(stream.writable).catch(() => {});
  return { readable: stream.readable, writable: writable.writable, close: (r) => stream.close(r) };
}

const service = defineService({
  scale: method({
    params: z.tuple([z.array(z.number()), z.number().int()]),
    result: z.object({ values: z.array(z.number()), count: z.number().int() }),
    handler: (values, factor) => ({ values: values.map((v) => v * factor), count: values.length }),
  }),
});

Deno.test("a zod service's doubles travel as doubles both ways: 2.0 and -0.0 in JSON", async () => {
  const [a, b] = memoryPair();
  const serverFrames: string[] = [];
  const clientFrames: string[] = [];
  const server = new Peer(tap(a, serverFrames), { codec: jsonRpc(), service });
  const client = new Peer(tap(b, clientFrames), { codec: jsonRpc() });
  const remote = client.proxy(service);
  const result = await remote.scale([1, -0, 0.5], 2);
  assert.deepEqual(result, { values: [2, -0, 1], count: 3 });
  assert.match(clientFrames[0]!, /"params":\[\[1\.0,-0\.0,0\.5\],2\]/);
  assert.match(serverFrames[0]!, /"result":\{"values":\[2\.0,-0\.0,1\.0\],"count":3\}/);
  // Explicit Floats for schema-less code.
  assert.deepEqual(await client.call("scale", [[float(3)], 1]), { values: [3], count: 1 });
  assert.match(clientFrames.at(-1)!, /"params":\[\[3\.0\],1\]/);
  await client.close();
  await server.closed;
});
