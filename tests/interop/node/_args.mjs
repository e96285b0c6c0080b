// What the Node peers share for their command lines: `--name value`
// options, counted ones, and the default directory of the contract's IDL.

import { realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The script's arguments. */
export const argv = process.argv.slice(2);

/**
 * The value after `--name`, or `fallback`.
 *
 * @param {string} name the option, with its dashes
 * @param {unknown} fallback what it is when absent
 */
export function option(name, fallback) {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : fallback;
}

/**
 * An integer option of at least `min`; a bad one ends the script with exit 1.
 *
 * @param {string} script the script's name, for the message
 * @param {string} name the option
 * @param {number} fallback its default
 * @param {number} min its least value
 */
export function count(script, name, fallback, min) {
  const value = Number(option(name, fallback));
  if (!Number.isInteger(value) || value < min) {
    process.stderr.write(`${script}: ${name} must be an integer >= ${min}\n`);
    process.exit(1);
  }
  return value;
}

/**
 * The directory of the contract's IDL: `flag`'s value, else the
 * repository's copy (examples/calculator) next to the script's real
 * location. Tests always pass the flag, since the peers run from a copy.
 *
 * @param {string} metaUrl the script's import.meta.url
 * @param {string} flag `--proto-dir` or `--thrift-dir`
 */
export function idlDir(metaUrl, flag) {
  const here = dirname(realpathSync(fileURLToPath(metaUrl)));
  return resolve(option(flag, resolve(here, "../../../examples/calculator")));
}
