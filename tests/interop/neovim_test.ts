/**
 * A real Neovim (`nvim --embed --headless`, Debian's neovim) driven through
 * parley's msgpack-rpc codec and stdio transport.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startNeovim } from "../../examples/neovim.ts";
import { NvimBuffer, NvimWindow } from "../../examples/neovim/handles.ts";
import { RpcError } from "../../rpc/errors.ts";

Deno.test("Neovim: nvim_get_api_info describes the API and its handle types", async () => {
  await using nvim = startNeovim();
  const [channel, api] = await nvim.call<[number, Record<string, unknown>]>("nvim_get_api_info");
  assert.ok(Number.isInteger(channel) && channel > 0);
  const types = api["types"] as Record<string, { id: number }>;
  assert.deepEqual(
    [types["Buffer"]!.id, types["Window"]!.id, types["Tabpage"]!.id],
    [0, 1, 2],
  );
  const functions = api["functions"] as { name: string }[];
  assert.ok(functions.some((f) => f.name === "nvim_buf_set_lines"));
});

Deno.test("Neovim: evaluates expressions, with values of every kind", async () => {
  await using nvim = startNeovim();
  assert.equal(await nvim.call("nvim_eval", ["1+2"]), 3);
  assert.equal(await nvim.call("nvim_eval", ["'héllo ✓'"]), "héllo ✓");
  assert.deepEqual(await nvim.call("nvim_eval", ["[1, 'two', 3.5, v:null]"]), [
    1,
    "two",
    3.5,
    null,
  ]);
  assert.deepEqual(await nvim.call("nvim_eval", ["{'a': 1, 'b': [v:true]}"]), { a: 1, b: [true] });
  assert.equal(await nvim.call("nvim_eval", ["2 * 1000000000 * 1000"]), 2_000_000_000_000);
  assert.equal(await nvim.call("nvim_call_function", ["toupper", ["abc"]]), "ABC");
});

Deno.test("Neovim: sets and reads buffer lines through handles", async () => {
  await using nvim = startNeovim();
  const buffer = await nvim.call<NvimBuffer>("nvim_get_current_buf");
  assert.ok(buffer instanceof NvimBuffer);
  const window = await nvim.call<NvimWindow>("nvim_get_current_win");
  assert.ok(window instanceof NvimWindow);
  assert.deepEqual(await nvim.call("nvim_win_get_buf", [window]), buffer);
  await nvim.call("nvim_buf_set_lines", [buffer, 0, -1, false, ["one", "two", "three"]]);
  await nvim.call("nvim_buf_set_lines", [buffer, 1, 2, false, ["TWO", "two and a half"]]);
  assert.deepEqual(await nvim.call("nvim_buf_get_lines", [buffer, 0, -1, false]), [
    "one",
    "TWO",
    "two and a half",
    "three",
  ]);
  assert.equal(await nvim.call("nvim_buf_line_count", [buffer]), 4);
  // A handle made here travels to Neovim as the same ext value.
  assert.equal(await nvim.call("nvim_buf_line_count", [new NvimBuffer(buffer.id)]), 4);
});

Deno.test("Neovim: a bad call arrives as an RpcError and the session goes on", async () => {
  await using nvim = startNeovim();
  await assert.rejects(
    nvim.call("nvim_eval", ["no_such_variable"]),
    (e: unknown) => e instanceof RpcError && /E121/.test(e.message),
  );
  await assert.rejects(
    nvim.call("nvim_no_such_function", []),
    (e: unknown) => e instanceof RpcError && /Invalid method/.test(e.message),
  );
  await assert.rejects(
    nvim.call("nvim_buf_get_lines", [new NvimBuffer(999), 0, -1, false]),
    (e: unknown) => e instanceof RpcError && /buffer/i.test(e.message),
  );
  assert.equal(await nvim.call("nvim_eval", ["40 + 2"]), 42);
});

Deno.test("Neovim: rpcnotify reaches a parley handler while calls are in flight", async () => {
  const events: unknown[][] = [];
  await using nvim = startNeovim({ progress: (...args: unknown[]) => void events.push(args) });
  const [channel] = await nvim.call<[number]>("nvim_get_api_info");
  // Three calls at once: the first makes Neovim notify us twice before it answers.
  const notifying = nvim.call("nvim_command", [
    `call rpcnotify(${channel}, 'progress', 1, 'started') | sleep 20m | call rpcnotify(${channel}, 'progress', 2, 'done')`,
  ]);
  const [seenWhenAnswered, sum, text] = await Promise.all([
    notifying.then(() => events.length),
    nvim.call("nvim_eval", ["1+1"]),
    nvim.call("nvim_eval", ["'after'"]),
  ]);
  // Both notifications were handled by the time the call that sent them was answered.
  assert.equal(seenWhenAnswered, 2);
  assert.equal(sum, 2);
  assert.equal(text, "after");
  assert.deepEqual(events, [[1, "started"], [2, "done"]]);
});
