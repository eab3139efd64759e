/**
 * Numbers as OpenZFS prints them. With `--json-int` (or `-p`) most are plain
 * integers, but some properties stay strings even then (`"1.00"`, `"-"`), and
 * without it sizes are rounded human strings (`"111G"`, `"27%"`, `"1.00x"`).
 */
import { type ErrorList, type NumberText, toNumber } from "../values.ts";

const UNITS = "KMGTPE";
const HUMAN = /^(\d+(?:\.\d+)?)([KMGTPE]?)(?:B|iB)?$/;

/** Human sizes use zfs_nicenum's 1024-based units and are therefore rounded. */
const zfsText: NumberText = (text) => {
  const m = HUMAN.exec(text.replace(/[%x]$/, ""));
  if (!m) return null;
  if (m[2] === "") return Number(m[1]);
  return Math.round(Number(m[1]) * 1024 ** (UNITS.indexOf(m[2]) + 1));
};

/**
 * A number from any of the forms above; `"-"` (not applicable) is null without
 * complaint, anything else unreadable is null plus an error entry.
 */
export function zfsNumber(
  value: unknown,
  field: string,
  tag: string,
  errors: ErrorList,
): number | null {
  return toNumber(value, field, tag, errors, zfsText);
}
