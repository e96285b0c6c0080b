// Deno.serve, kept listening. Deno.serve's accept loop (op_http_serve in
// ext/http/http_next.rs) ends at the first failed accept, and its `finished`
// promise then rejects with `Deno.errors.Http` ("Too many open files (os
// error 24)" when the process is out of file descriptors): an uncaught
// rejection that kills the process, and a listener that is gone for good.
// Upstream: denoland/deno#6719 (open; #10148, the same for Deno.listen, was
// fixed by making its accept errors catchable, which Deno.serve's are not).
// Deno.serve takes no listener of ours nor a connection accepted by us, so
// the best that can be done from outside is what this does: catch the
// rejection, report it once per episode, and listen again on the same port,
// backing off while descriptors are still short. The connections the dead
// server holds keep being served (their tasks outlive its accept loop) and
// are shut down with the rest. Between the failure and the new listener,
// connection attempts are refused rather than queued.

import { Backoff, Episodes, outOfDescriptors } from "../_accept.ts";

/** What {@linkcode serveListening} starts `Deno.serve` with. */
export type ListenOptions =
  & Omit<Deno.ServeTcpOptions, "onListen" | "signal">
  & Partial<Deno.TlsCertifiedKeyPem>;

/** A `Deno.serve` server that listens again when its accept loop dies. */
export interface ListeningServer {
  /** The address bound first; every new listener binds its port. */
  readonly addr: Deno.NetAddr;
  /** Shuts down every listener and lets their connections finish. */
  shutdown(): Promise<void>;
}

/**
 * Serves `handler` with `Deno.serve`, and listens again on the same port
 * whenever the accept loop ends on an error, telling `onError` once per
 * episode.
 *
 * @param options `Deno.serve`'s options (the first listen's errors are thrown)
 * @param handler the request handler
 * @param url the server's URL, for what the errors say
 * @param onError told when the accept loop died
 */
export function serveListening(
  options: ListenOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  url: () => string,
  onError: (error: unknown) => void,
): ListeningServer {
  const servers = new Set<Deno.HttpServer<Deno.NetAddr>>();
  const stopping = new AbortController();
  const failures = new Episodes();
  // One backoff for the whole episode: a new listener may bind at once (the
  // dead one's descriptor is free) and die at the next connection, so even a
  // listen that succeeds waits its turn, up to a second apart.
  const backoff = new Backoff();

  const listen = (port: number): Deno.HttpServer<Deno.NetAddr> => {
    const server = Deno.serve({ ...options, port, onListen: () => {} }, handler);
    servers.add(server);
    server.finished.then(() => servers.delete(server), (error) => {
      // The dead server stays in `servers` (a small object, at most one a
      // second): its connections, WebSockets included, are still served, and
      // shutting it down now would end them.
      if (stopping.signal.aborted) return;
      if (failures.begins()) {
        backoff.reset();
        onError(died(url(), error));
      }
      relisten(server.addr.port);
    });
    return server;
  };

  const relisten = async (port: number): Promise<void> => {
    while (!stopping.signal.aborted) {
      await backoff.wait(stopping.signal);
      if (stopping.signal.aborted) return;
      try {
        listen(port);
        return;
      } catch {
        // Still out of descriptors, or the port taken meanwhile: try again.
      }
    }
  };

  const first = listen(options.port ?? 0);
  let stopped: Promise<void> | undefined;
  return {
    addr: first.addr,
    shutdown: () => {
      stopping.abort();
      stopped ??= Promise.all([...servers].map((server) => server.shutdown())).then(() => {});
      return stopped;
    },
  };
}

function died(url: string, error: unknown): Error {
  const hint = outOfDescriptors(error) ? "; raise the file descriptor limit (ulimit -n)" : "";
  return new Error(
    `The HTTP server on ${url} stopped accepting connections: ${
      (error as Error)?.message ?? String(error)
    }. It keeps serving its connections and listens again on the same port, backing off ` +
      `up to 1 s (Deno.serve ends its accept loop on a failed accept: denoland/deno#6719)${hint}`,
    { cause: error },
  );
}
