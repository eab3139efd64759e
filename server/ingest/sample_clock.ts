/**
 * Whether a sample's time can be right, judged by the server's clock: one
 * from the far future would stay "the latest sample" forever and outlive
 * retention, one from before retention would be deleted at the next prune.
 */
import { MAX_CLOCK_AHEAD_MS } from "@proxmon/shared";

/** The nack message for a sample at `collectedAtMs`, or null when it is fine. */
export function sampleClockProblem(
  collectedAtMs: number,
  nowMs: number,
  retentionHours: number,
): string | null {
  const aheadMs = collectedAtMs - nowMs;
  if (aheadMs > MAX_CLOCK_AHEAD_MS) {
    return `collected_at is ${
      Math.round(aheadMs / 1000)
    } s ahead of the server's clock (${
      new Date(nowMs).toISOString()
    }); at most ${MAX_CLOCK_AHEAD_MS / 1000} s is accepted`;
  }
  const oldestMs = nowMs - retentionHours * 3_600_000;
  if (collectedAtMs < oldestMs) {
    return `collected_at is older than the server keeps samples (RETENTION_HOURS=${retentionHours}, server time ${
      new Date(nowMs).toISOString()
    })`;
  }
  return null;
}
