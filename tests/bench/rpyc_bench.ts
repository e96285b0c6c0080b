/**
 * `deno task bench` (RPyC): sequential calls per second of `add(1, 2)` on
 * one Python RPyC ThreadedServer (tests/peers/rpyc_server.py), parley's
 * client against Python's own `rpyc` client, each on a fresh connection,
 * alternating A B A B over `BENCH_ROUNDS` rounds of `BENCH_SECONDS`.
 *
 * Python's `conn.root.add(1, 2)` is two round trips (GETATTR for `add`,
 * then CALL); `add = conn.root.add` once, then `add(1, 2)`, is one. parley's
 * `conn.root.add(1, 2)` is one CALLATTR; its cached form one CALL. Each is
 * measured.
 *
 * @module
 */

import { connectRpyc, type RemoteObject } from "../../rpc/transports/rpyc.ts";
import { DEBIAN_PYTHON, spawnListening } from "../interop/_process.ts";
import { drive, MAX_CALLS, ROUNDS, SECONDS } from "./_harness.ts";
import { Report } from "./_report.ts";

/** One measurement: calls per second against the server on `port`. */
interface Scenario {
  readonly name: string;
  run(port: number): Promise<number>;
}

async function parley(port: number, cached: boolean): Promise<number> {
  await using conn = await connectRpyc({ hostname: "127.0.0.1", port });
  if (!cached) return await drive(1, () => conn.root.add!(1, 2));
  const add = await conn.root.add as unknown as RemoteObject;
  return await drive(1, () => add(1, 2));
}

/** Callbacks per `call_back` call: the call's own round trip is 1% of the count. */
const BATCH = 100;

async function parleyCallbacks(port: number): Promise<number> {
  await using conn = await connectRpyc({ hostname: "127.0.0.1", port });
  const callBack = await conn.root.call_back as unknown as RemoteObject;
  const cb = (i: number) => i;
  return BATCH * await drive(1, () => callBack(cb, BATCH));
}

async function python(port: number, mode: "attr" | "cached" | "callback"): Promise<number> {
  const output = await new Deno.Command(DEBIAN_PYTHON, {
    args: [
      new URL("./_rpyc_client.py", import.meta.url).pathname,
      String(port),
      String(SECONDS),
      String(MAX_CALLS),
      mode,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`_rpyc_client.py failed (exit ${output.code})`);
  return JSON.parse(new TextDecoder().decode(output.stdout).trim()).callsPerSecond;
}

/** Sequential calls, parley's client and Python's, alternating in this order. */
const SEQUENTIAL: readonly Scenario[] = [
  { name: "parley conn.root.add(1, 2) (CALLATTR)", run: (port) => parley(port, false) },
  { name: "python conn.root.add(1, 2) (GETATTR + CALL)", run: (port) => python(port, "attr") },
  { name: "parley add(1, 2), add cached (CALL)", run: (port) => parley(port, true) },
  { name: "python add(1, 2), add cached (CALL)", run: (port) => python(port, "cached") },
];

/** Callback round trips per second: Python calling a function of the client's back. */
const CALLBACKS: readonly Scenario[] = [
  { name: "parley callback round trips (TS function)", run: parleyCallbacks },
  {
    name: "python callback round trips (Python function)",
    run: (port) => python(port, "callback"),
  },
];

await using server = await spawnListening(DEBIAN_PYTHON, {
  args: [new URL("../peers/rpyc_server.py", import.meta.url).pathname, "service"],
});
const report = new Report();
for (let round = 1; round <= ROUNDS; round++) {
  const rates: Record<string, number> = {};
  for (const scenario of [...SEQUENTIAL, ...CALLBACKS]) {
    rates[scenario.name] = await scenario.run(server.port);
    report.record(scenario.name, rates[scenario.name]!);
  }
  const [pAttr, pyAttr, pCached, pyCached] = SEQUENTIAL.map((s) => rates[s.name]!);
  report.record("ratio parley/python, conn.root.add as written", pAttr! / pyAttr!);
  report.record("ratio parley/python, add cached", pCached! / pyCached!);
  report.record("ratio parley as written/python cached", pAttr! / pyCached!);
  const [pCallbacks, pyCallbacks] = CALLBACKS.map((s) => rates[s.name]!);
  report.record("ratio parley/python, callback round trips", pCallbacks! / pyCallbacks!);
  console.error(
    `round ${round}: ${
      [...SEQUENTIAL, ...CALLBACKS].map((s) =>
        `${s.name.split(" (")[0]} ${rates[s.name]!.toFixed(0)}/s`
      ).join(", ")
    }`,
  );
}
report.print(
  `RPyC: sequential add(1, 2) and callback round trips against Python's ThreadedServer, ${ROUNDS} alternating rounds of ${SECONDS} s (median)`,
);
