/**
 * Quiet hours of a channel, in the channel's time zone: while they last,
 * everything but crit waits until they end.
 */

export interface QuietHours {
  /** "HH:MM", local to `timezone` */
  start: string;
  end: string;
  timezone: string;
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
};

const formats = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight at `ms` in `timeZone`. */
function localMinutes(ms: number, timeZone: string): number {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formats.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return get("hour") * 60 + get("minute");
}

function inside(q: QuietHours, local: number): boolean {
  const s = minutes(q.start), e = minutes(q.end);
  if (s === e) return false;
  return s < e ? local >= s && local < e : local >= s || local < e;
}

/**
 * When quiet hours that include `ms` end (unix ms), or null when `ms` is
 * outside them. Walks forward a minute at a time, so daylight-saving jumps
 * are handled by the time zone database rather than by arithmetic here.
 */
export function quietUntil(q: QuietHours, ms: number): number | null {
  if (!inside(q, localMinutes(ms, q.timezone))) return null;
  const startOfMinute = ms - (ms % 60_000);
  for (let t = startOfMinute + 60_000; t < ms + 2 * 86_400_000; t += 60_000) {
    if (!inside(q, localMinutes(t, q.timezone))) return t;
  }
  return null;
}
