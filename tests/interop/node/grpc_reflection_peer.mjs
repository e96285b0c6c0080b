// gRPC server reflection with @grpc/grpc-js: a client that learns a
// server's services through reflection and calls one from what it learnt,
// and a server with @grpc/reflection's reflection service.
//
//   node grpc_reflection_peer.mjs client HOST:PORT [v1|v1alpha]
//     loads grpc's own reflection.proto (shipped in @grpc/reflection) with
//     @grpc/proto-loader, asks ServerReflectionInfo for list_services, then
//     file_containing_symbol interop.Calculator and an unknown symbol on the
//     same stream; builds a package definition from the files received
//     (proto-loader's loadFileDescriptorSetFromBuffer) and calls
//     interop.Calculator/Add {num1: 40, num2: 2} with it. Prints one line of
//     JSON: {services, files, unknown: {code, message}, sum, streaming}.
//
//   node grpc_reflection_peer.mjs server [--proto-dir DIR]
//     prints `listening grpc://127.0.0.1:PORT` and serves until SIGTERM:
//     interop.Calculator's Add, Sum and Range (calculator.proto loaded by
//     proto-loader) and @grpc/reflection's ReflectionService (v1 and
//     v1alpha) describing it.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { argv, idlDir } from "./_args.mjs";

const [mode, ...rest] = argv;
const LOADER = { keepCase: true, longs: String, enums: Number, defaults: true };

if (mode === "client") await client(rest[0], rest[1] ?? "v1");
else if (mode === "server") await server();
else {
  process.stderr.write("usage: grpc_reflection_peer.mjs client TARGET [v1|v1alpha] | server\n");
  process.exit(2);
}

// A FileDescriptorSet of serialized FileDescriptorProtos: field 1, repeated.
function descriptorSet(files) {
  const parts = [];
  for (const file of files) {
    const length = [];
    for (let n = file.length;; n >>>= 7) {
      if (n < 0x80) {
        length.push(n);
        break;
      }
      length.push((n & 0x7f) | 0x80);
    }
    parts.push(Buffer.from([0x0a, ...length]), Buffer.from(file));
  }
  return Buffer.concat(parts);
}

async function client(target, version) {
  const require = createRequire(import.meta.url);
  const protoRoot = join(dirname(require.resolve("@grpc/reflection")), "..", "proto");
  const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
    ...LOADER,
    includeDirs: [protoRoot],
  });
  const { ServerReflection } = grpc.loadPackageDefinition(definition).grpc.reflection[version];
  const reflection = new ServerReflection(target, grpc.credentials.createInsecure());
  const call = reflection.ServerReflectionInfo({ deadline: new Date(Date.now() + 20_000) });
  const replies = [];
  const ended = new Promise((resolve, reject) => {
    call.on("data", (reply) => replies.push(reply));
    call.on("end", resolve);
    call.on("error", reject);
  });
  call.write({ list_services: "" });
  call.write({ file_containing_symbol: "interop.Calculator" });
  call.write({ file_containing_symbol: "interop.NoSuchThing" });
  call.end();
  await ended;
  reflection.close();
  const [listed, found, unknown] = replies;
  const files = found.file_descriptor_response.file_descriptor_proto;
  const reflected = protoLoader.loadFileDescriptorSetFromBuffer(descriptorSet(files), LOADER);
  const { Calculator } = grpc.loadPackageDefinition(reflected).interop;
  const calculator = new Calculator(target, grpc.credentials.createInsecure());
  const sum = await new Promise((resolve, reject) =>
    calculator.Add({ num1: 40, num2: 2 }, (error, reply) => error ? reject(error) : resolve(reply))
  );
  calculator.close();
  const methods = reflected["interop.Calculator"];
  console.log(JSON.stringify({
    services: listed.list_services_response.service.map((s) => s.name),
    files: files.length,
    unknown: {
      code: unknown.error_response.error_code,
      message: unknown.error_response.error_message,
    },
    sum: sum.sum,
    streaming: Object.fromEntries(
      Object.entries(methods).map(([name, m]) => [name, [m.requestStream, m.responseStream]]),
    ),
  }));
}

async function server() {
  const protoDir = idlDir(import.meta.url, "--proto-dir");
  const definition = protoLoader.loadSync(join(protoDir, "calculator.proto"), LOADER);
  const { Calculator } = grpc.loadPackageDefinition(definition).interop;
  const grpcServer = new grpc.Server();
  grpcServer.addService(Calculator.service, {
    Add: ({ request }, done) => done(null, { sum: request.num1 + request.num2 }),
    Sum: ({ request }, done) =>
      done(null, { total: String(request.values.reduce((a, v) => a + BigInt(v), 0n)) }),
    Range: (call) => {
      const { start, count } = call.request;
      for (let i = 0; i < count; i++) call.write({ value: String(start + i) });
      call.end();
    },
  });
  new ReflectionService(definition).addToServer(grpcServer);
  const port = await new Promise((resolve, reject) =>
    grpcServer.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => error ? reject(error) : resolve(bound),
    )
  );
  console.log(`listening grpc://127.0.0.1:${port}`);
  const stop = () => grpcServer.tryShutdown(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
