/**
 * Rates from two readings of monotonic counters. The elapsed time is always
 * passed in; nothing here looks at a clock.
 */
import { round2 } from "../values.ts";
import type { CounterPairs, CpuTimes } from "./proc_parsers.ts";

/** Busy share of all CPUs between two readings, 0..100, or null if no time passed. */
export function cpuPercent(prev: CpuTimes, curr: CpuTimes): number | null {
  const total = curr.total - prev.total;
  const idle = curr.idle - prev.idle;
  if (total <= 0 || idle < 0) return null;
  return round2(Math.min(100, Math.max(0, (1 - idle / total) * 100)));
}

/** A counter's growth per second, or null when there is no earlier value or it went back (reset, wrap). */
function perSecond(
  prev: number | undefined,
  curr: number,
  seconds: number,
): number | null {
  if (prev === undefined || curr < prev) return null;
  return round2((curr - prev) / seconds);
}

/**
 * Per-device rates for every device in `curr`. A device missing from `prev`
 * (new interface, first reading) gets null rates rather than being left out.
 */
export function counterRates(
  prev: CounterPairs | undefined,
  curr: CounterPairs,
  elapsedMs: number | null,
): Map<string, readonly [number | null, number | null]> {
  const seconds = elapsedMs !== null && elapsedMs > 0 ? elapsedMs / 1000 : 0;
  const out = new Map<string, readonly [number | null, number | null]>();
  for (const [name, [a, b]] of curr) {
    const before = seconds > 0 ? prev?.get(name) : undefined;
    out.set(name, [
      perSecond(before?.[0], a, seconds),
      perSecond(before?.[1], b, seconds),
    ]);
  }
  return out;
}
