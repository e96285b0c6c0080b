/**
 * Drives a real Neovim through parley: Neovim speaks msgpack-rpc on its
 * standard input and output when started with `--embed`.
 *
 * ```sh
 * deno task example:neovim
 * ```
 *
 * It asks for the API info, evaluates an expression, writes and reads back
 * buffer lines, shows a bad call arriving as an `RpcError`, and has Neovim
 * call back into this process with `rpcnotify()`.
 *
 * @module
 */

import { msgpackRpc, type MsgpackRpcOptions } from "../codecs/msgpack_rpc.ts";
import { RpcError } from "../rpc/errors.ts";
import { selfDelimiting } from "../rpc/framing/self_delimiting.ts";
import { spawnStdio } from "../rpc/transports/stdio.ts";
import { neovimExtensions, type NvimBuffer } from "./neovim/handles.ts";

/**
 * Starts an embedded, headless Neovim with no user configuration.
 *
 * @param service what Neovim may call (`rpcnotify` / `rpcrequest` reach it)
 * @param codecOptions the codec's options: by default Neovim's handle types
 *   as classes; without them handles arrive as `MsgpackExt`s
 * @returns the running Neovim, as a peer
 */
export function startNeovim(
  service: Record<string, (...args: never[]) => unknown> = {},
  codecOptions: MsgpackRpcOptions = { extensions: neovimExtensions },
) {
  const codec = msgpackRpc(codecOptions);
  return spawnStdio("nvim", {
    args: ["--embed", "--headless", "--clean", "-n"],
    codec,
    framing: selfDelimiting(codec.measure!.bind(codec)),
    service,
    stderr: "piped",
    gracePeriod: 500,
  });
}

if (import.meta.main) {
  const events: unknown[][] = [];
  await using nvim = startNeovim({ progress: (...args: unknown[]) => void events.push(args) });
  const [channel, api] = await nvim.call<[number, { version: Record<string, unknown> }]>(
    "nvim_get_api_info",
  );
  const { major, minor, patch } = api.version;
  console.log(`Neovim ${major}.${minor}.${patch}, our channel is ${channel}`);
  console.log(`1 + 2 = ${await nvim.call("nvim_eval", ["1 + 2"])}`);

  const buffer = await nvim.call<NvimBuffer>("nvim_get_current_buf");
  await nvim.call("nvim_buf_set_lines", [buffer, 0, -1, false, ["hello", "from parley"]]);
  const lines = await nvim.call<string[]>("nvim_buf_get_lines", [buffer, 0, -1, false]);
  console.log(`buffer ${buffer.id} holds ${JSON.stringify(lines)}`);

  try {
    await nvim.call("nvim_eval", ["no_such_variable"]);
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    console.log(`a bad call: RpcError ${error.code}: ${error.message}`);
  }

  await nvim.call("nvim_command", [
    `call rpcnotify(${channel}, 'progress', 'half') | call rpcnotify(${channel}, 'progress', 'done')`,
  ]);
  console.log(`Neovim notified us: ${JSON.stringify(events)}`);
}
