/**
 * `deno task example:files [DIR]`: a remote object browser in the RPyC
 * style. The server exposes a read-only view of a directory as objects
 * (`Folder`, `File`); the client walks it through proxies, reads a file, and
 * streams the lines of another with `for await`. Nothing outside the
 * directory is reachable: names are checked, and only exposed members
 * exist.
 *
 * @module
 */

import { join, normalize, resolve } from "node:path";
import { jsonRpc } from "../codecs/json_rpc.ts";
import { exposed, ObjectSession, type Remote, serveObjects } from "../rpc/objects/mod.ts";
import { RpcError } from "../rpc/errors.ts";
import { newline } from "../rpc/framing/delimiter.ts";
import { connectTcp, serveTcp } from "../rpc/transports/tcp.ts";

/** A file under the shared directory. */
class File {
  constructor(readonly path: string, readonly size: number) {}
  /** The file's name. */
  @exposed
  get name(): string {
    return this.path.split("/").pop()!;
  }
  /** Its first `limit` bytes, as text. */
  @exposed
  async read(limit = 4096): Promise<string> {
    using file = await Deno.open(this.path);
    const buffer = new Uint8Array(limit);
    const n = await file.read(buffer) ?? 0;
    return new TextDecoder().decode(buffer.subarray(0, n));
  }
  /** Its lines, streamed within the client's credit (leaving its loop stops the reading). */
  @exposed
  async *lines(): AsyncGenerator<string> {
    using file = await Deno.open(this.path);
    let rest = "";
    for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      yield* parts;
    }
    if (rest !== "") yield rest;
  }
}

/** A folder under the shared directory. */
class Folder {
  constructor(readonly root: string, readonly path: string) {}
  /** Its entries' names and kinds, by value. */
  @exposed
  async list(): Promise<{ name: string; folder: boolean; size: number }[]> {
    const entries = [];
    for await (const entry of Deno.readDir(this.path)) {
      const info = await Deno.stat(join(this.path, entry.name));
      entries.push({ name: entry.name, folder: info.isDirectory, size: info.size });
    }
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }
  /** An entry, by reference: a Folder or a File. */
  @exposed
  async open(name: string): Promise<Folder | File> {
    const path = normalize(join(this.path, name));
    if (name.includes("/") || !path.startsWith(this.root)) {
      throw new RpcError(1, `"${name}" is not an entry of this folder`);
    }
    const info = await Deno.stat(path);
    return info.isDirectory ? new Folder(this.root, path) : new File(path, info.size);
  }
}

const dir = resolve(Deno.args[0] ?? new URL("..", import.meta.url).pathname);
const root = { folder: () => new Folder(dir, dir) };
const server = serveTcp({ port: 0 }, {
  codec: jsonRpc(),
  framing: newline(),
  service: serveObjects(root),
});

const objects = new ObjectSession();
const peer = await connectTcp(server.address, {
  codec: jsonRpc(),
  framing: newline(),
  service: objects.service,
});
objects.attach(peer);
const api = objects.root<typeof root>();

const top = await api.folder();
console.log(`${dir}:`);
for (const entry of await top.list()) {
  console.log(
    `  ${entry.folder ? "d" : "-"} ${entry.name}${entry.folder ? "/" : ` (${entry.size} B)`}`,
  );
}
// open() answers a Folder or a File: the client says which it expects.
const examples = await top.open("examples") as unknown as Remote<Folder>;
const names = (await examples.list()).map((e) => e.name);
console.log(`examples/ holds ${names.length} entries: ${names.slice(0, 5).join(", ")}, ...`);
const readme = await top.open("README.md") as unknown as Remote<File>;
console.log(`README.md starts with: ${JSON.stringify((await readme.read(40)).split("\n")[0])}`);
let count = 0;
for await (const line of await readme.lines()) {
  if (line.startsWith("## ")) console.log(`  section: ${line.slice(3)}`);
  if (++count === 80) break; // leaving the loop stops the server's reading
}
await top.open("../..").catch((error: Error) => console.log(`refused: ${error.message}`));
// `root` is a field of Folder, but not exposed.
await (top as unknown as { root: Promise<unknown> }).root.catch((error: Error) =>
  console.log(`refused: ${error.message}`)
);

await peer.close();
await server.shutdown();
