/**
 * parley and Python's own gRPC, both ways:
 *
 * ```sh
 * deno task example:grpc
 * ```
 *
 * 1. parley serves the calculator over gRPC (`serveGrpc`, h2c) and Python's
 *    grpcio calls it: a unary Add with metadata, the server-streaming Range,
 *    the client-streaming Total with 64-bit values, the bidirectional Running,
 *    and a failing Calculate.
 * 2. grpcio serves Add and Range, and parley's `connectGrpc` calls it through
 *    a typed `protoClient`.
 *
 * Needs `python3` with grpcio and protobuf and `protoc` (Debian:
 * `apt-get install python3-grpcio python3-protobuf protobuf-compiler`).
 *
 * @module
 */

import { protoClient } from "../codecs/protobuf.ts";
import { connectGrpc } from "../rpc/transports/grpc.ts";
import { calculatorSchema } from "./calculator/protobuf.ts";
import { serveCalculatorGrpc } from "./calculator/grpc.ts";

const PEER = new URL("./grpc/python_peer.py", import.meta.url).pathname;
const PYTHON = (() => {
  try {
    Deno.statSync("/usr/bin/python3");
    return "/usr/bin/python3"; // Debian's, whose grpcio this needs
  } catch {
    return "python3";
  }
})();

// 1. Python's grpcio calls parley.
{
  await using server = await serveCalculatorGrpc({
    hostname: "127.0.0.1",
    port: 0,
    exposeErrors: false,
    onError: (error) => console.error("server:", error),
  });
  console.log(`parley serves the calculator at ${server.url}`);
  const client = new Deno.Command(PYTHON, {
    args: [PEER, "client", `127.0.0.1:${server.addr.port}`],
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await client.output();
  if (code !== 0) {
    console.error(
      `The Python client failed (exit ${code}); it needs python3-grpcio, python3-protobuf and protoc.`,
    );
    Deno.exit(1);
  }
}

// 2. parley calls Python's grpcio.
{
  const python = new Deno.Command(PYTHON, { args: [PEER, "server"], stdout: "piped" }).spawn();
  const lines = python.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await lines.read();
  const url = first.value?.match(/^listening (grpc:\/\/\S+)/)?.[1];
  if (url === undefined) {
    console.error("The Python server did not start: it needs python3-grpcio and protoc.");
    Deno.exit(1);
  }
  console.log(`grpcio serves Add and Range at ${url}`);
  const schema = calculatorSchema();
  type Calculator = {
    Add(request: { num1: number; num2: number }): { sum: number };
    Range(request: { start: number; count: number }): AsyncIterable<{ value: bigint }>;
  };
  {
    await using client = connectGrpc(url, { schema });
    const calculator = protoClient<Calculator>(client, schema, "interop.Calculator");
    console.log("parley → python: Add(40, 2) =", (await calculator.Add({ num1: 40, num2: 2 })).sum);
    const values = [];
    for await (const { value } of calculator.Range({ start: 1, count: 5 })) values.push(value);
    console.log("parley → python: Range(start=1, count=5) streams", values);
  }
  python.kill("SIGTERM");
  await lines.cancel();
  await python.status;
}
