import { loadProto, protoClient, protoService } from "../../../codecs/protobuf.ts";
import { connectGrpc, serveGrpc } from "../../../rpc/transports/grpc.ts";
const schema = loadProto({ "calculator.proto": Deno.readTextFileSync("examples/calculator/calculator.proto") });
const service = protoService(schema, "interop.Calculator", {
  Add: ({ num1, num2 }: { num1: number; num2: number }) => ({ sum: num1 + num2 }),
});
const mode = Deno.args[0] ?? "both";
if (mode === "server") {
  const server = await serveGrpc({ schema, service, port: 50555 });
  console.log("listening");
  setTimeout(() => server.shutdown(), Number(Deno.args[1] ?? 8000));
  await server.finished;
  Deno.exit(0);
}
const server = mode === "both" ? await serveGrpc({ schema, service }) : undefined;
const url = server?.url ?? "grpc://127.0.0.1:50555";
const client = connectGrpc(url, { schema });
type C = { Add(r: { num1: number; num2: number }): Promise<{ sum: number }> };
const calc = protoClient<C>(client, schema, "interop.Calculator");
const run = async (ms: number) => {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < end) { await calc.Add({ num1: 1, num2: 2 }); n++; }
  }));
  return n / (ms / 1000);
};
await run(1000);
console.log("calls/s", await run(3000));
await client.close();
await server?.shutdown();
