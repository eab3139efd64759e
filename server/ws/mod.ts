/** Picks the WebSocket adapter named by WS_ADAPTER. */
import type { ServerConfig } from "../config.ts";
import type { WsAdapter } from "./adapter.ts";
import { createDenoAdapter } from "./deno_adapter.ts";
import { createNodeAdapter } from "./node_adapter.ts";

export type { ServedApp, ServeOptions, WsAdapter } from "./adapter.ts";

/** The adapter for a config; node's hard frame cap is 4× MAX_FRAME_BYTES. */
export function createWsAdapter(
  config: Pick<ServerConfig, "wsAdapter" | "maxFrameBytes">,
): WsAdapter {
  return config.wsAdapter === "node"
    ? createNodeAdapter({ hardLimitBytes: 4 * config.maxFrameBytes })
    : createDenoAdapter();
}
