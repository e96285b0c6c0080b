// Code and descriptors the Node peers need, made at run time from the
// contract's IDL by Debian's compilers: Apache Thrift's generated Node code
// (thrift --gen js:node) and protobuf descriptors for connect-es (protoc).
// Shared by the Connect and Thrift peers and the Thrift benchmark.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/**
 * Compiles `dir/calculator.proto` with protoc and returns its registry.
 *
 * @param {string} dir the directory of calculator.proto
 */
export function loadRegistry(dir) {
  const tmp = mkdtempSync(join(tmpdir(), "calculator-desc-"));
  try {
    const out = join(tmp, "calculator.binpb");
    execFileSync("protoc", [
      "--include_imports",
      `--descriptor_set_out=${out}`,
      "-I",
      dir,
      "calculator.proto",
    ], { stdio: ["ignore", "ignore", "inherit"] });
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Generates the Node code of `dir/calculator.thrift` with thrift-compiler and
 * loads it. The generated CommonJS modules `require("thrift")`: a link to
 * the peers' node_modules lets them find it.
 *
 * @param {string} dir the directory of calculator.thrift
 */
export function loadThriftGenerated(dir) {
  const require = createRequire(import.meta.url);
  const main = require.resolve("thrift");
  const marker = `${sep}node_modules${sep}`;
  const modules = main.slice(0, main.lastIndexOf(marker) + marker.length - 1);
  const tmp = mkdtempSync(join(tmpdir(), "parley-thrift-gen-"));
  try {
    symlinkSync(modules, join(tmp, "node_modules"), "dir");
    writeFileSync(join(tmp, "package.json"), '{"type": "commonjs"}\n');
    execFileSync("thrift", ["--gen", "js:node", "-out", tmp, join(dir, "calculator.thrift")], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    return {
      Calculator: require(join(tmp, "Calculator.js")),
      types: require(join(tmp, "calculator_types.js")),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true }); // removes the link, not its target
  }
}
