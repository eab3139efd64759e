/**
 * Lenient readers for values that come out of other programs' JSON and text.
 * They never throw: a value of the wrong kind becomes null (or false) and,
 * where the caller passes an error list, a short entry saying what was seen.
 */
import type { CollectorError } from "@proxmon/shared";

export type ErrorList = CollectorError[];

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` if it is an array; else [] and an entry saying `what` was expected to be one. */
export function asArray(
  value: unknown,
  tag: string,
  what: string,
  errors: ErrorList,
): unknown[] {
  if (Array.isArray(value)) return value;
  errors.push({ tag, message: `${what}: expected a JSON array` });
  return [];
}

/** A string field, or null when absent or not a string. */
export function stringOr(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Reads a trimmed, non-empty text other than `"-"`; null when unreadable. */
export type NumberText = (text: string) => number | null;

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const plainNumber: NumberText = (text) =>
  NUMERIC.test(text) ? Number(text) : null;

/**
 * A number from a number or a numeric string. Absent values, `""` and `"-"`
 * (how ZFS and PVE say "not applicable") are null without complaint; anything
 * else that is not a number is null plus an entry in `errors`. `parseText`
 * reads the strings, for tools whose numbers are not plain decimals.
 */
export function toNumber(
  value: unknown,
  field: string,
  tag: string,
  errors: ErrorList,
  parseText: NumberText = plainNumber,
): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
  } else if (typeof value === "string") {
    const text = value.trim();
    if (text === "" || text === "-") return null;
    const number = parseText(text);
    if (number !== null) return number;
  }
  errors.push({
    tag,
    message: `${field}: expected a number, got ${JSON.stringify(value)}`,
  });
  return null;
}

const TRUE_WORDS = new Set(["1", "yes", "on", "true"]);

/** PVE's booleans: 1/0, "1"/"0", ""/absent, and the yes/on/true words of its schema. */
export function toFlag(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") {
    return TRUE_WORDS.has(value.trim().toLowerCase());
  }
  return false;
}

/** Splits a PVE list (`a;b`, `a,b`, `a, b`, `a b`) into its non-empty parts. */
export function splitList(value: unknown): string[] {
  if (typeof value !== "string") return [];
  return value.split(/[;,\s]+/).filter((part) => part !== "");
}

/** Rounds to two decimals, enough for percentages and rates on the wire. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
