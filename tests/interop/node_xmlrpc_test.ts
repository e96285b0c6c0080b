/**
 * The `xmlrpc` npm package on Node as a client of the XML-RPC calculator
 * over HTTP: it writes every whole number as `<int>`, 2^40 included, which
 * parley reads as an i64 where one is expected (and as invalid params where
 * an i32 is). The checks are in `node/xmlrpc_client.mjs`.
 *
 * Needs `node` and `npm` (the peers are installed once, outside the tree).
 */

import assert from "node:assert/strict";
import { nodePeers } from "./_node.ts";
import { formatOutput, run, startCalculator } from "./_process.ts";

Deno.test("the xmlrpc npm package's client passes its checks against the XML-RPC calculator, 2^40 as <int> accepted", async () => {
  const peers = await nodePeers();
  await using server = await startCalculator("--codec", "xmlrpc", "--transport", "http");
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/RPC2$/);
  const client = await run("node", { args: [`${peers}/xmlrpc_client.mjs`, server.url] });
  assert.equal(
    client.code,
    0,
    `${formatOutput(client)}\n--- calculator stderr ---\n${server.stderr()}`,
  );
  assert.match(client.stdout, /ok {3}sum\(\[2\^40\]\) is accepted/);
  assert.match(client.stdout, /all \d+ checks passed \(xmlrpc-node\)/);
});
