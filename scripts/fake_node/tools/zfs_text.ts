/**
 * Number and date formats of the OpenZFS command-line tools, shared by the
 * fake `zpool` and `zfs`.
 */
import { CTIME_MONTHS } from "../../../agent/collectors/zfs/ctime_months.ts";

const UNITS = ["", "K", "M", "G", "T", "P", "E"];

/**
 * `zfs_nicenum`: 1024-based, at most 5 characters, no decimals for exact
 * multiples ("928G", "1.81T", "12.5G"). `bytes` adds "B" below 1 KiB, as
 * `zfs_nicebytes` does ("0B").
 */
export function nicenum(n: number, bytes = false): string {
  let index = 0;
  let whole = Math.floor(n);
  while (whole >= 1024 && index < UNITS.length - 1) {
    whole = Math.floor(whole / 1024);
    index++;
  }
  const unit = index === 0 && bytes ? "B" : UNITS[index];
  const base = 1024 ** index;
  if (index === 0 || n % base === 0) return `${whole}${unit}`;
  let text = "";
  for (const digits of [2, 1, 0]) {
    text = `${(n / base).toFixed(digits)}${unit}`;
    if (text.length <= 5) break;
  }
  return text;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

const pad2 = (n: number) => String(n).padStart(2, "0");

/** C `ctime()` in local time (the node's zone, as the real tools print it), with its trailing newline: "Sun Nov  3 00:24:43 2024\n". */
export function ctime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const day = String(d.getDate()).padStart(2, " ");
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${
    pad2(d.getSeconds())
  }`;
  return `${DAYS[d.getDay()]} ${
    CTIME_MONTHS[d.getMonth()]
  } ${day} ${time} ${d.getFullYear()}\n`;
}

/** How `zfs list` prints `creation` without -p: "Mon Nov 25 18:00 2025". */
export function creationText(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const day = String(d.getDate()).padStart(2, " ");
  return `${DAYS[d.getDay()]} ${CTIME_MONTHS[d.getMonth()]} ${day} ${
    pad2(d.getHours())
  }:${pad2(d.getMinutes())} ${d.getFullYear()}`;
}

/** `secs_to_dhms`: "00:12:04", or "2 days 03:00:00". */
export function dhms(total: number): string {
  const days = Math.floor(total / 86400);
  const clock = `${pad2(Math.floor(total / 3600) % 24)}:${
    pad2(Math.floor(total / 60) % 60)
  }:${pad2(total % 60)}`;
  return days > 0 ? `${days} days ${clock}` : clock;
}

/** A table the way the ZFS tools print one: tabs with -H, padded columns otherwise. */
export function table(
  header: string[],
  rows: string[][],
  scripted: boolean,
  rightAligned: boolean[],
): string {
  if (scripted) return rows.map((r) => `${r.join("\t")}\n`).join("");
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => {
      const last = i === cells.length - 1;
      if (rightAligned[i]) return c.padStart(widths[i]);
      return last ? c : c.padEnd(widths[i]);
    }).join("  ").trimEnd() + "\n";
  return line(header) + rows.map(line).join("");
}
