// A JSON-RPC server on Node made with jayson (a widely used JSON-RPC
// library), over HTTP on 127.0.0.1 and a free port: it serves `add` and
// prints `PORT` once listening. Used to show that it ignores members it does
// not know, such as parley's optional `"meta"`. It exits when stdin closes.
//
//   node jayson_server.mjs

import process from "node:process";
import jayson from "jayson";

const server = new jayson.Server({
  add: (args, callback) => callback(null, args[0] + args[1]),
}).http();
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.stdin.on("end", () => server.close(() => process.exit(0)));
process.stdin.resume();
