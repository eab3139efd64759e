/** WebSockets on Deno: `hono/deno`'s upgrade inside `Deno.serve`. */
import { upgradeWebSocket } from "hono/deno";
import type { WsAdapter } from "./adapter.ts";

/** Creates the Deno adapter. */
export function createDenoAdapter(): WsAdapter {
  return {
    name: "deno",
    upgradeWebSocket,
    serve(app, { hostname, port }) {
      const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
      const server = Deno.serve(
        { hostname, port, onListen: (addr) => resolve(addr) },
        app.fetch,
      );
      return promise.then((addr) => ({
        hostname: addr.hostname,
        port: addr.port,
        close: () => server.shutdown(),
      }));
    },
  };
}
