/**
 * Numbers as OpenZFS prints them. With `--json-int` (or `-p`) most are plain
 * integers, but some properties stay strings even then (`"1.00"`, `"-"`), and
 * without it sizes are rounded human strings (`"111G"`, `"27%"`, `"1.00x"`).
 */
import type { ErrorList } from "../values.ts";

const UNITS = "KMGTPE";
const HUMAN = /^(\d+(?:\.\d+)?)([KMGTPE]?)(?:B|iB)?$/;

/**
 * A number from any of the forms above; `"-"` (not applicable) is null without
 * complaint, anything else unreadable is null plus an error entry. Human sizes
 * use zfs_nicenum's 1024-based units and are therefore rounded.
 */
export function zfsNumber(
  value: unknown,
  field: string,
  tag: string,
  errors: ErrorList,
): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text === "-" || text === "") return null;
    const suffixless = text.replace(/[%x]$/, "");
    const m = HUMAN.exec(suffixless);
    if (m) {
      if (m[2] === "") return Number(m[1]);
      return Math.round(Number(m[1]) * 1024 ** (UNITS.indexOf(m[2]) + 1));
    }
  }
  errors.push({
    tag,
    message: `${field}: expected a number, got ${JSON.stringify(value)}`,
  });
  return null;
}
