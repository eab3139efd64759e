/** Numbered samples for outbox tests: `data.i` tells them apart. */
import type { Outbox, OutboxSample } from "../outbox.ts";

export function sample(i: number): OutboxSample {
  return {
    interval: "fast",
    collected_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    data: { i },
  };
}

/** The `i` of every queued sample, oldest first. */
export const indexes = (outbox: Outbox) =>
  outbox.samples().map((s) => s.data.i);
