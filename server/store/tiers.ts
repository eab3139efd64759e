/**
 * The three tiers of the series store. Each keeps one block per series per
 * window of `blockMs`, aligned to the epoch; a rollup tier's entries are
 * `stepMs` apart. Windows nest (2 h in 1 day in 7 days), so a lower tier's
 * blocks never straddle a higher tier's window.
 */
export type Tier = 0 | 1 | 2;
export type TierName = "raw" | "1m" | "1h";

export interface TierSpec {
  tier: Tier;
  name: TierName;
  blockMs: number;
  /** 0 for raw points */
  stepMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const TIERS: readonly TierSpec[] = [
  { tier: 0, name: "raw", blockMs: 2 * HOUR, stepMs: 0 },
  { tier: 1, name: "1m", blockMs: DAY, stepMs: 60_000 },
  { tier: 2, name: "1h", blockMs: 7 * DAY, stepMs: HOUR },
];

/** How long each tier is kept, in ms. */
export interface TierRetention {
  rawMs: number;
  oneMinuteMs: number;
  oneHourMs: number;
}

export const DEFAULT_RETENTION: TierRetention = {
  rawMs: 48 * HOUR,
  oneMinuteMs: 30 * DAY,
  oneHourMs: 365 * DAY,
};

export function retentionOf(r: TierRetention, tier: Tier): number {
  return tier === 0 ? r.rawMs : tier === 1 ? r.oneMinuteMs : r.oneHourMs;
}

/** Start of the window of `blockMs` holding `t`. */
export const windowStart = (t: number, blockMs: number): number =>
  Math.floor(t / blockMs) * blockMs;

/** Up to this span a chart reads raw points: ~2,200 per series at 10 s. */
export const RAW_SPAN_MS = 6 * HOUR;

/**
 * The tier a chart reads: raw for spans up to 6 h (cheap, and points keep
 * their own times), else the coarsest whose step still fits a bucket of
 * the requested width; moved coarser while its retention misses `fromMs`.
 */
export function pickTier(
  fromMs: number,
  toMs: number,
  points: number,
  nowMs: number,
  retention: TierRetention,
): Tier {
  const bucket = (toMs - fromMs) / points;
  let tier: Tier = toMs - fromMs <= RAW_SPAN_MS
    ? 0
    : bucket >= TIERS[2].stepMs
    ? 2
    : bucket >= TIERS[1].stepMs
    ? 1
    : 0;
  while (tier < 2 && fromMs < nowMs - retentionOf(retention, tier)) {
    tier = (tier + 1) as Tier;
  }
  return tier;
}

/** The tier retention a server config asks for. */
export function tierRetention(c: {
  retentionHours: number;
  rollupMinuteRetentionDays: number;
  rollupHourRetentionDays: number;
}): TierRetention {
  return {
    rawMs: c.retentionHours * HOUR,
    oneMinuteMs: c.rollupMinuteRetentionDays * DAY,
    oneHourMs: c.rollupHourRetentionDays * DAY,
  };
}
