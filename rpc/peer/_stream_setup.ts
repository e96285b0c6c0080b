// A peer's table of streaming calls, when its codec carries streams and it
// was given `streams: peerStreams`: wired to the peer's outbox (events go
// out as STREAM_EVENT notifications) and to the calls it serves.

import type { Codec } from "../types.ts";
import { STREAM_EVENT } from "../types.ts";
import type { IncomingCalls } from "./_incoming.ts";
import type { Outbox } from "./_outbox.ts";
import type { StreamTable } from "./_streams.ts";
import type { PeerOptions } from "./options.ts";

/**
 * The stream table of a peer, or `undefined` when it has none.
 *
 * @param codec the peer's codec (its own instance)
 * @param options the peer's options (`streams`, `streamWindow`, `onError`)
 * @param outbox where events are written
 * @param incoming the calls the peer serves (made after the table, hence a function)
 * @returns the table
 */
export function streamTable(
  codec: Codec,
  options: PeerOptions,
  outbox: Outbox,
  incoming: () => IncomingCalls,
): StreamTable | undefined {
  if (codec.features.streams !== true || options.streams === undefined) return undefined;
  return options.streams({
    // async: an event the codec cannot encode is a rejection, not a throw.
    send: async (event) =>
      await outbox.write(
        codec.encode({ kind: "notification", method: STREAM_EVENT, params: { ...event } }),
      ),
    window: options.streamWindow ?? 16,
    cancelServed: (id) => incoming().cancel(id),
    serving: (id) => incoming().serving(id),
    onError: options.onError ?? (() => {}),
  });
}
