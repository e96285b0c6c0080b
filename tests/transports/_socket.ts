/**
 * TCP, TLS and Unix sockets as harnesses of the transport suite: `serveTcp`
 * and `connectTcp` with a length prefix whose limit is the server's.
 *
 * @module
 */

import { lengthPrefix } from "../../rpc/framing/length_prefix.ts";
import type { Peer } from "../../rpc/peer.ts";
import type { ListenAddress, SocketAddress } from "../../rpc/transports/_addresses.ts";
import { connectTcp, serveTcp } from "../../rpc/transports/tcp.ts";
import type { TransportHarness } from "../../testing/transport_suite.ts";

/** Where a server listens, and how a client reaches it. */
export interface SocketPlace {
  /** The address to listen on. */
  readonly listen: () => Promise<ListenAddress>;
  /** The address to connect to, given the server's. */
  readonly reach: (address: SocketAddress) => SocketAddress;
  /** Releases what `listen` made (a directory, say). */
  readonly cleanUp?: () => Promise<void>;
}

/**
 * A harness over `serveTcp` and `connectTcp`.
 *
 * @param name how the cases call the transport
 * @param place where to listen and how to connect
 * @returns the harness
 */
export function socketHarness(name: string, place: SocketPlace): TransportHarness {
  return {
    name,
    start: async ({ codec, service, maxFrameSize }) => {
      const ends: Peer[] = [];
      const server = serveTcp(await place.listen(), {
        codec,
        framing: lengthPrefix({ maxFrameSize }),
        service,
        onConnection: (peer) => void ends.push(peer),
      });
      return {
        connect: (clientService) =>
          connectTcp(place.reach(server.address), {
            codec,
            framing: lengthPrefix(),
            ...(clientService === undefined ? {} : { service: clientService }),
          }),
        serverEnd: () => ends.at(-1)!,
        released: () => ends.at(-1)!.closed,
        close: async () => {
          // At once: the connections drop with their calls in flight.
          await Promise.all([...server.peers].map((peer) => peer.close()));
          await server.shutdown();
          await place.cleanUp?.();
        },
      };
    },
  };
}
