/**
 * Durations as people write them in alerts.toml: "30s", "10m", "2h", "35d",
 * or a combination such as "1h30m".
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** Milliseconds for a duration such as "10m" or "1h30m"; null when malformed. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  let total = 0;
  let consumed = 0;
  for (const m of trimmed.matchAll(PART)) {
    if (m.index !== consumed) return null;
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed += m[0].length;
  }
  return consumed === trimmed.length ? Math.round(total) : null;
}

/** "2h 5m", "35d", "40s": a short human form of a duration. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "∞";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
