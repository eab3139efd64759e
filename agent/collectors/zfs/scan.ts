/**
 * Scrub and resilver state, from `scan_stats` in JSON or from the `scan:`
 * lines of text `zpool status`. Both reduce to the same ScanState.
 */
import type { ScanState } from "@proxmon/shared";
import { type ErrorList, isRecord, round2, stringOr } from "../values.ts";
import { CTIME_MONTHS } from "./ctime_months.ts";
import { zfsNumber } from "./zfs_values.ts";

/**
 * Converts a wall-clock time as `ctime(3)` prints it, in the node's local
 * time zone, to unix seconds. Injected so tests need not depend on the zone.
 */
export type LocalTimeToUnix = (
  year: number,
  monthIndex: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
) => number;

/** The node's own time zone, as `zpool status` uses it. */
export const systemLocalTime: LocalTimeToUnix = (y, mo, d, h, mi, s) =>
  Math.floor(new Date(y, mo, d, h, mi, s).getTime() / 1000);

/** UTC, for tests and for nodes that run in UTC. */
export const utcTime: LocalTimeToUnix = (y, mo, d, h, mi, s) =>
  Date.UTC(y, mo, d, h, mi, s) / 1000;

const CTIME =
  /\b[A-Z][a-z]{2} +([A-Z][a-z]{2}) +(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2}) (\d{4})\b/;

/** Unix seconds of the first `Sun Nov  9 00:24:06 2025` in `text`, or null. */
export function parseCtime(
  text: string,
  toUnix: LocalTimeToUnix,
): number | null {
  const m = CTIME.exec(text);
  if (!m) return null;
  const month = CTIME_MONTHS.indexOf(m[1]);
  if (month < 0) return null;
  const [day, hour, minute, second, year] = m.slice(2).map(Number);
  return toUnix(year, month, day, hour, minute, second);
}

/** `secs_to_dhms` output (`00:00:05`, `1 days 02:03:04`) in seconds. */
export function parseDuration(text: string): number | null {
  const m = /^(?:(\d+) days? )?(\d+):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [days, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  return ((days * 24 + h) * 60 + mi) * 60 + s;
}

/** Percent done as `zpool status` computes it: issued over what is left to issue. */
function progress(
  state: string,
  stats: Record<string, unknown>,
  tag: string,
  errors: ErrorList,
): number | null {
  if (state === "FINISHED") return 100;
  if (state !== "SCANNING") return null;
  const total = zfsNumber(
    stats.to_examine,
    "scan_stats.to_examine",
    tag,
    errors,
  );
  const skipped = zfsNumber(stats.skipped, "scan_stats.skipped", tag, errors) ??
    0;
  const issued = zfsNumber(stats.issued, "scan_stats.issued", tag, errors) ??
    zfsNumber(stats.examined, "scan_stats.examined", tag, errors);
  if (total === null || issued === null || total - skipped <= 0) return null;
  return round2(Math.min(100, (issued / (total - skipped)) * 100));
}

/**
 * ScanState from a pool's `scan_stats` object, or null when the pool was
 * never scanned (the key is then absent, or its function is NONE).
 */
export function scanFromStats(
  stats: unknown,
  tag: string,
  errors: ErrorList,
): ScanState | null {
  if (!isRecord(stats)) return null;
  const fn = stringOr(stats.function) ?? "NONE";
  if (fn === "NONE") return null;
  const state = stringOr(stats.state) ?? "NONE";
  // end_time is 0 while a scan runs; 0 is never a real time here.
  const time = (key: string) =>
    zfsNumber(stats[key], `scan_stats.${key}`, tag, errors) || null;
  return {
    function: fn,
    state,
    start_unix: time("start_time"),
    end_unix: time("end_time"),
    progress_percent: progress(state, stats, tag, errors),
  };
}

/** End of the last finished scrub, or null (never scrubbed, running, canceled, or the last scan was a resilver). */
export function lastScrubEnd(scan: ScanState | null): number | null {
  return scan?.function === "SCRUB" && scan.state === "FINISHED"
    ? scan.end_unix
    : null;
}

const FINISHED =
  /^(scrub repaired|resilvered)(?: \([^)]*\))? \S+ in (.+?) with \d+ errors on (.+)$/;
const CANCELED = /^(scrub|resilver)(?: \([^)]*\))? canceled on (.+)$/;
const RUNNING =
  /^(scrub|resilver)(?: \([^)]*\))? (in progress|paused) since (.+)$/;

/**
 * ScanState from one `scan:` entry of text `zpool status`: its first line and
 * the tab-indented lines under it. Returns undefined for a line it does not
 * know, so the caller can report it.
 */
export function scanFromText(
  lines: readonly string[],
  toUnix: LocalTimeToUnix,
): ScanState | null | undefined {
  const first = (lines[0] ?? "").trim();
  const rest = lines.slice(1).join("\n");
  // "error scrub" (2.2+) only re-reads blocks with known errors; the JSON
  // form keeps reporting the last full scrub, which the text form hides then.
  if (first === "none requested" || first.startsWith("error scrub")) {
    return null;
  }
  const fnOf = (word: string) =>
    word.startsWith("scrub") ? "SCRUB" : "RESILVER";
  let m = FINISHED.exec(first);
  if (m) {
    const end = parseCtime(m[3], toUnix);
    const took = parseDuration(m[2]);
    return {
      function: fnOf(m[1]),
      state: "FINISHED",
      start_unix: end !== null && took !== null ? end - took : null,
      end_unix: end,
      progress_percent: 100,
    };
  }
  m = CANCELED.exec(first);
  if (m) {
    return {
      function: fnOf(m[1]),
      state: "CANCELED",
      start_unix: null,
      end_unix: parseCtime(m[2], toUnix),
      progress_percent: null,
    };
  }
  m = RUNNING.exec(first);
  if (m) {
    // A paused scrub prints the pause time first and the start on the next line.
    const started = /started on (.+)$/m.exec(rest);
    const done = /(\d+(?:\.\d+)?)% done/.exec(rest);
    return {
      function: fnOf(m[1]),
      state: "SCANNING",
      start_unix: parseCtime(started ? started[1] : m[3], toUnix),
      end_unix: null,
      progress_percent: done ? Number(done[1]) : null,
    };
  }
  return undefined;
}
