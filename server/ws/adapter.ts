/**
 * The seam between the app and the runtime's WebSocket server. The protocol
 * code only sees Hono's `upgradeWebSocket`; how the app is served differs:
 * Deno upgrades inside `Deno.serve`, while `@hono/node-ws` needs the node
 * HTTP server from `@hono/node-server` to hook its `upgrade` event.
 */
import type { Context, Hono } from "hono";
import type { ConnInfo } from "hono/conninfo";
import type { UpgradeWebSocket } from "hono/ws";
import type { WsAdapterName } from "../config.ts";

export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port; the chosen one is in {@link ServedApp.port} */
  port: number;
  /** told when serving failed; the adapter serves again where it can */
  onError?: (message: string) => void;
}

export interface ServedApp {
  hostname: string;
  port: number;
  /**
   * Stops listening and closes remaining connections. Close agent sockets
   * first, so they get an error message rather than a bare close.
   */
  close(): Promise<void>;
}

export interface WsAdapter {
  readonly name: WsAdapterName;
  readonly upgradeWebSocket: UpgradeWebSocket;
  /** hono's per-runtime peer address of a request (its socket's far end) */
  readonly getConnInfo: (c: Context) => ConnInfo;
  /** Serves the app (built with this adapter's `upgradeWebSocket`). */
  serve(app: Hono, opts: ServeOptions): Promise<ServedApp>;
}
