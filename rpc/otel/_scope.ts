/**
 * The instrumentation scope that parley's tracer and meter report under.
 *
 * @module
 */

/** The scope's name: the package's. */
export const INSTRUMENTATION = "@parley/rpc";

/** The scope's version: the package's, kept with deno.json's by hand. */
export const VERSION = "0.2.0";
