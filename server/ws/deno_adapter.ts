/** WebSockets on Deno: `hono/deno`'s upgrade inside `Deno.serve`. */
import { getConnInfo, upgradeWebSocket } from "hono/deno";
import type { Hono } from "hono";
import type { WsAdapter } from "./adapter.ts";

/**
 * Serves once; resolves with the server and its address. `Deno.serve`'s
 * accept loop ends for good on an accept error (EMFILE), rejecting
 * `finished`; `onFailed` is told so the caller can serve again.
 */
function serveOnce(
  app: Hono,
  hostname: string,
  port: number,
  onFailed: (err: unknown) => void,
): Promise<{ server: Deno.HttpServer; addr: Deno.NetAddr }> {
  const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname, port, onListen: (addr) => resolve(addr) },
    app.fetch,
  );
  server.finished.catch(onFailed);
  return promise.then((addr) => ({ server, addr }));
}

/** Creates the Deno adapter. */
export function createDenoAdapter(): WsAdapter {
  return {
    name: "deno",
    upgradeWebSocket,
    getConnInfo,
    async serve(app, { hostname, port, onError }) {
      let closing = false;
      let current: Deno.HttpServer;
      const failed = (err: unknown) => {
        if (closing) return;
        onError?.(`the HTTP server stopped (${err}); serving again`);
        setTimeout(() => {
          if (closing) return;
          serveOnce(app, hostname, first.addr.port, failed).then(
            (next) => current = next.server,
            (e) => onError?.(`serving again failed: ${e}`),
          );
        }, 100);
      };
      const first = await serveOnce(app, hostname, port, failed);
      current = first.server;
      return {
        hostname: first.addr.hostname,
        port: first.addr.port,
        close: () => {
          closing = true;
          return current.shutdown();
        },
      };
    },
  };
}
