/**
 * A real Neovim (`nvim --embed --headless`, Debian's neovim) driven through
 * parley's msgpack-rpc codec and stdio transport.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MsgpackExt, RawString } from "../../codecs/msgpack_rpc.ts";
import { startNeovim } from "../../examples/neovim.ts";
import { neovimExtensions, NvimBuffer, NvimWindow } from "../../examples/neovim/handles.ts";
import { RpcError } from "../../rpc/errors.ts";
import { Float, float } from "../../rpc/float.ts";
import { testNeeding } from "../_needs.ts";

const test = testNeeding("nvim");

test("Neovim: nvim_get_api_info describes the API and its handle types", async () => {
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

test("Neovim: evaluates expressions, with values of every kind", async () => {
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

test("Neovim: sets and reads buffer lines through handles", async () => {
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

test("Neovim: a bad call arrives as an RpcError and the session goes on", async () => {
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

test("Neovim: rpcnotify reaches a parley handler while calls are in flight", async () => {
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

test("Neovim: a Latin-1 line (caf\\xe9) read through parley is written back byte for byte", async () => {
  await using nvim = startNeovim();
  const buffer = await nvim.call<NvimBuffer>("nvim_get_current_buf");
  // Vim's "\xe9" is the byte 0xE9: the line is 4 bytes, not UTF-8.
  await nvim.call("nvim_command", ['call setline(1, "caf\\xe9")']);
  assert.equal(await nvim.call("nvim_eval", ["strlen(getline(1))"]), 4);
  const [line] = await nvim.call<unknown[]>("nvim_buf_get_lines", [buffer, 0, 1, false]);
  assert.ok(line instanceof RawString, `got ${String(line)}`);
  assert.deepEqual(line.bytes, new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
  assert.deepEqual(await nvim.call("nvim_get_current_line"), line);
  // Written back below it, and compared inside Neovim.
  await nvim.call("nvim_buf_set_lines", [buffer, 1, 1, false, [line]]);
  assert.equal(await nvim.call("nvim_eval", ['getline(2) ==# "caf\\xe9"']), 1);
  assert.equal(await nvim.call("nvim_eval", ["char2nr(getline(2)[3])"]), 0xe9);
  assert.equal(await nvim.call("nvim_eval", ["strlen(getline(2))"]), 4);
  // Valid UTF-8 is a string both ways, as before.
  await nvim.call("nvim_buf_set_lines", [buffer, 2, 2, false, ["café ✓"]]);
  assert.equal(await nvim.call("nvim_eval", ["getline(3)"]), "café ✓");
  assert.equal(await nvim.call("nvim_eval", ["strlen(getline(3))"]), 9);
});

test("Neovim: with keepFloats, 1.0 is a Float and goes back a Float (v:t_float), -0.0 keeps its sign", async () => {
  await using nvim = startNeovim({}, { extensions: neovimExtensions, keepFloats: true });
  const one = await nvim.call("nvim_eval", ["1.0"]);
  assert.deepEqual(one, new Float(1));
  await nvim.call("nvim_set_var", ["x", one]);
  assert.equal(await nvim.call("nvim_eval", ["type(g:x) == v:t_float"]), 1);
  assert.equal(await nvim.call("nvim_eval", ["string(g:x)"]), "1.0");
  const zero = await nvim.call<Float>("nvim_eval", ["-0.0"]);
  assert.ok(zero instanceof Float && Object.is(zero.value, -0));
  await nvim.call("nvim_set_var", ["z", zero]);
  assert.equal(await nvim.call("nvim_eval", ["string(g:z)"]), "-0.0");
  // Integers stay numbers; float(3) made here is a Float in Vim, 3 a Number.
  assert.equal(await nvim.call("nvim_eval", ["7"]), 7);
  await nvim.call("nvim_set_var", ["f", float(3)]);
  await nvim.call("nvim_set_var", ["n", 3]);
  assert.equal(
    await nvim.call("nvim_eval", ["[type(g:f), type(g:n)] == [v:t_float, v:t_number]"]),
    1,
  );
});

test("Neovim: without keepFloats a double is a plain number (the default)", async () => {
  await using nvim = startNeovim();
  assert.equal(await nvim.call("nvim_eval", ["1.0"]), 1);
  assert.equal(await nvim.call("nvim_eval", ["2.5"]), 2.5);
});

test("Neovim: without extensions, handles arrive as MsgpackExt and work when passed back", async () => {
  await using nvim = startNeovim({}, {});
  const buffer = await nvim.call<MsgpackExt>("nvim_get_current_buf");
  assert.ok(buffer instanceof MsgpackExt, `got ${String(buffer)}`);
  // Buffer is ext type 0, its data the handle number as msgpack (1, a fixint).
  assert.deepEqual(buffer, new MsgpackExt(0, new Uint8Array([1])));
  await nvim.call("nvim_buf_set_lines", [buffer, 0, -1, false, ["one", "two"]]);
  assert.deepEqual(await nvim.call("nvim_buf_get_lines", [buffer, 0, -1, false]), ["one", "two"]);
  const window = await nvim.call<MsgpackExt>("nvim_get_current_win");
  assert.ok(window instanceof MsgpackExt && window.type === 1);
  assert.deepEqual(await nvim.call("nvim_win_get_buf", [window]), buffer);
  const tab = await nvim.call<MsgpackExt>("nvim_get_current_tabpage");
  assert.ok(tab instanceof MsgpackExt && tab.type === 2);
  assert.deepEqual(await nvim.call("nvim_tabpage_get_win", [tab]), window);
});
