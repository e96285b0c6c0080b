/**
 * `deno task proto:types FILE.proto [MORE.proto...] [--include DIR] [--out FILE]`:
 * writes the TypeScript types of the messages and services of `.proto`
 * files, in parley's plain form (see `codecs/protobuf/typescript.ts`).
 * Imports are read from `--include` directories (the first file's directory
 * by default); protobuf's well-known types are built in.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { loadProto, protoTypes } from "../codecs/protobuf.ts";

const USAGE =
  `Usage: deno task proto:types FILE.proto [MORE.proto...] [--include DIR]... [--out FILE]

Writes TypeScript types for the messages and services of the files (stdout by default).
Example: deno task proto:types examples/calculator/calculator.proto --out calculator_types.ts`;

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    include: { type: "string", multiple: true },
    out: { type: "string" },
    help: { type: "boolean" },
  },
});
if (values.help || positionals.length === 0) {
  console.log(USAGE);
  Deno.exit(values.help ? 0 : 2);
}

const includes = values.include ?? [dirname(positionals[0]!)];
const sources: Record<string, string> = {};
const IMPORT = /^\s*import\s+(?:weak\s+|public\s+)?"([^"]+)"\s*;/gm;

function read(name: string, path: string): void {
  if (name in sources) return;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    console.error(`proto:types: cannot read ${path}: ${(error as Error).message}`);
    Deno.exit(1);
  }
  sources[name] = text;
  for (const [, imported] of text.matchAll(IMPORT)) {
    if (imported!.startsWith("google/protobuf/") || imported! in sources) continue;
    const dir = includes.find((d) => {
      try {
        return Deno.statSync(join(d, imported!)).isFile;
      } catch {
        return false;
      }
    });
    if (dir === undefined) {
      console.error(
        `proto:types: ${name} imports "${imported}", not found in ${
          includes.join(", ")
        } (add --include DIR)`,
      );
      Deno.exit(1);
    }
    read(imported!, join(dir, imported!));
  }
}

for (const file of positionals) read(file.split("/").pop()!, file);
let text: string;
try {
  text = protoTypes(loadProto(sources), positionals.join(", "));
} catch (error) {
  console.error(`proto:types: ${(error as Error).message}`);
  Deno.exit(1);
}
if (values.out === undefined) console.log(text);
else Deno.writeTextFileSync(values.out, text + "\n");
