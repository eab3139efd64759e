/**
 * WebSockets the node way: `@hono/node-ws` on an HTTP server from
 * `@hono/node-server`. Kept beside the Deno adapter so the two can be
 * compared by the same tests and benchmark.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import type { WsAdapter } from "./adapter.ts";

/**
 * Creates the node adapter. `hardLimitBytes` caps what `ws` buffers for one
 * message; keep it above MAX_FRAME_BYTES so the protocol layer, not `ws`,
 * answers an oversized frame with a clear error.
 */
export function createNodeAdapter(
  { hardLimitBytes }: { hardLimitBytes: number },
): WsAdapter {
  // node-ws reads `init.app` only when an upgrade arrives, so the app can be
  // set in serve(), after it was built with this adapter's upgradeWebSocket.
  const init = { app: new Hono() };
  const nodeWs = createNodeWebSocket(init);
  nodeWs.wss.options.maxPayload = hardLimitBytes;
  return {
    name: "node",
    upgradeWebSocket: nodeWs.upgradeWebSocket,
    getConnInfo,
    async serve(app, { hostname, port, onError }) {
      init.app = app;
      const server = serve({ fetch: app.fetch, hostname, port }) as Server;
      // An unhandled 'error' event would end the process.
      server.on("error", (err) => onError?.(`the HTTP server failed: ${err}`));
      nodeWs.injectWebSocket(server);
      await once(server, "listening");
      const addr = server.address() as AddressInfo;
      return {
        hostname: addr.address,
        port: addr.port,
        close: async () => {
          const closed = once(server, "close");
          server.close();
          server.closeAllConnections();
          for (const ws of nodeWs.wss.clients) ws.terminate();
          nodeWs.wss.close();
          await closed;
        },
      };
    },
  };
}
