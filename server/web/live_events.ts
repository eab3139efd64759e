/**
 * `GET /events`: a Server-Sent Events stream of the event bus, for the live
 * dashboard. Events are tiny ({type, host, …}); the page fetches what it
 * needs itself. A comment line every `keepAliveMs` keeps proxies from
 * closing an idle stream and lets the server notice a vanished client.
 */
import type { Handler } from "hono";
import { streamSSE } from "hono/streaming";
import type { Clock } from "@proxmon/shared/clock";
import type { EventBus, ServerEvent } from "../ingest/event_bus.ts";

export interface LiveEventsOptions {
  bus: EventBus;
  clock: Clock;
  keepAliveMs?: number;
  /** ends every open stream, so the server can shut down */
  signal?: AbortSignal;
  /** events kept for a slow client before the oldest are dropped */
  maxQueued?: number;
}

/**
 * A handler that streams bus events, optionally only one host's
 * (`?host=NAME`). The first message is `hello`, so the page knows it is
 * connected even before any sample arrives.
 */
export function liveEvents(opts: LiveEventsOptions): Handler {
  const keepAliveMs = opts.keepAliveMs ?? 20_000;
  const maxQueued = opts.maxQueued ?? 1000;
  return (c) => {
    const only = c.req.query("host");
    c.header("Cache-Control", "no-store");
    // Tells nginx not to buffer the stream.
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      const queue: ServerEvent[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = opts.bus.subscribe((event) => {
        if (only !== undefined && event.host !== only) return;
        queue.push(event);
        if (queue.length > maxQueued) queue.shift();
        wake?.();
      });
      const stop = () => wake?.();
      stream.onAbort(stop);
      opts.signal?.addEventListener("abort", stop);
      const open = () =>
        !stream.aborted && !stream.closed && !opts.signal?.aborted;
      try {
        await stream.writeSSE({ event: "hello", data: "{}" });
        while (open()) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => {
              const timer = opts.clock.setTimeout(resolve, keepAliveMs);
              wake = () => {
                opts.clock.clearTimeout(timer);
                resolve();
              };
            });
            wake = null;
          }
          if (!open()) break;
          if (queue.length === 0) {
            await stream.write(": keep-alive\n\n");
            continue;
          }
          for (const event of queue.splice(0)) {
            await stream.writeSSE({
              event: event.type,
              data: JSON.stringify(event),
            });
          }
        }
      } finally {
        unsubscribe();
        opts.signal?.removeEventListener("abort", stop);
      }
    });
  };
}
