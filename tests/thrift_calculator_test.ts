/**
 * The calculator example with `--codec thrift`, against hand-written frames
 * on a raw connection, in both protocols: fields of the wrong type are
 * skipped as Thrift requires (an argument, a field of a nested struct, a
 * container of other element types), read as their zero values as Apache
 * Thrift's C++ server reads them, and answered normally; the connection
 * stays usable.
 */

import assert from "node:assert/strict";
import { thriftRpc } from "../codecs/thrift.ts";
import { type Protocol, type ProtocolName, reader, writer } from "../codecs/thrift/_protocol.ts";
import { calculatorThrift, invalidOperationError } from "../examples/calculator/thrift.ts";
import { lengthPrefix } from "../rpc/framing/length_prefix.ts";
import { startCalculator } from "./interop/_process.ts";
import { field, struct } from "./codecs/_thrift_wire.ts";

const STRING = 11, I32 = 8, I64 = 10, DOUBLE = 4, STRUCT = 12, LIST = 15, MAP = 13, BOOL = 2;
const CALL = 1;

for (const protocol of ["binary", "compact"] as ProtocolName[]) {
  Deno.test(`the thrift calculator (${protocol}) skips fields of the wrong type at any depth and answers; the connection stays usable`, async () => {
    await using server = await startCalculator(
      "--codec",
      "thrift",
      "--transport",
      "tcp",
      "--protocol",
      protocol,
    );
    const conn = await Deno.connect({ hostname: server.hostname, port: server.port });
    const framing = lengthPrefix();
    const frames = conn.readable.pipeThrough(framing.decoder())[Symbol.asyncIterator]();
    const client = thriftRpc({
      schema: calculatorThrift(),
      service: "Calculator",
      protocol,
      exceptionError: invalidOperationError,
    }).fork!();
    let id = 0;
    // Sends a CALL of `method` whose args struct `args` writes by hand, under
    // the seqid the client codec gives its own call of that method (so that
    // it reads the reply), and returns the decoded reply.
    const call = async (method: string, args: (p: Protocol) => void) => {
      const own = client.encode({ kind: "request", id: ++id, method, params: [] });
      const { rseqid } = reader(protocol, own as Uint8Array).protocol.readMessageBegin();
      const out = writer(protocol);
      out.protocol.writeMessageBegin(method, CALL, rseqid);
      struct(out.protocol, () => args(out.protocol));
      out.protocol.writeMessageEnd();
      const framed = framing.frame(out.bytes());
      for (const part of framed instanceof Uint8Array ? [framed] : framed) await conn.write(part);
      const { value, done } = await frames.next();
      assert.ok(!done, "the server closed the connection");
      return client.decode(value);
    };
    const result = (value: unknown) => ({ kind: "result", id, result: value });

    // add(num1: a string, num2: 5): num1 skipped, read as 0.
    assert.deepEqual(
      await call("add", (p) => {
        field(p, STRING, 1, () => p.writeString("12"));
        field(p, I32, 2, () => p.writeI32(5));
      }),
      result(5),
    );
    // calculate(1, Work {num1: 7, num2: a double, op: ADD}): num2 skipped in the nested struct.
    assert.deepEqual(
      await call("calculate", (p) => {
        field(p, I32, 1, () => p.writeI32(1));
        field(p, STRUCT, 2, () =>
          struct(p, () => {
            field(p, I32, 1, () => p.writeI32(7));
            field(p, DOUBLE, 2, () => p.writeDouble(2.5));
            field(p, I32, 3, () => p.writeI32(1));
          }));
      }),
      result(7),
    );
    // sum(values: list<string>, and list<list<i64>>): containers of other
    // element types are values of the wrong type: skipped, read as [].
    for (
      const [etype, write] of [[STRING, (p: Protocol) => p.writeString("1")], [
        LIST,
        (p: Protocol) => {
          p.writeListBegin(I64, 1);
          p.writeI64(1n);
          p.writeListEnd();
        },
      ]] as const
    ) {
      assert.deepEqual(
        await call("sum", (p) =>
          field(p, LIST, 1, () => {
            p.writeListBegin(etype, 2);
            write(p);
            write(p);
            p.writeListEnd();
          })),
        result(0n),
      );
    }
    // echoShape(Shape {name, coords: list<i64>, tags: map<string, string>,
    // flag}): the mismatched containers skipped, blob absent: zero values.
    assert.deepEqual(
      await call("echoShape", (p) =>
        field(p, STRUCT, 1, () =>
          struct(p, () => {
            field(p, STRING, 1, () => p.writeString("square"));
            field(p, LIST, 2, () => {
              p.writeListBegin(I64, 1);
              p.writeI64(1n);
              p.writeListEnd();
            });
            field(p, MAP, 3, () => {
              p.writeMapBegin(STRING, STRING, 1);
              p.writeString("k");
              p.writeString("v");
              p.writeMapEnd();
            });
            field(p, BOOL, 5, () => p.writeBool(true));
          }))),
      result({ name: "square", coords: [], tags: {}, blob: new Uint8Array(0), flag: true }),
    );
    // echo(text: an i32): "".
    assert.deepEqual(await call("echo", (p) => field(p, I32, 1, () => p.writeI32(1))), result(""));
    // The connection still serves ordinary calls.
    assert.deepEqual(
      await call("add", (p) => {
        field(p, I32, 1, () => p.writeI32(2));
        field(p, I32, 2, () => p.writeI32(40));
      }),
      result(42),
    );
    conn.close();
  });
}
