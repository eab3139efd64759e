/**
 * Datasets and their snapshots, from `zfs list -t all` in JSON (2.3+) or
 * `-Hp` text (2.2). Both are read into the same rows, then summarised.
 */
import type { CollectorError, ZfsDataset } from "@proxmon/shared";
import { parseJson } from "../exec.ts";
import { type ErrorList, isRecord, stringOr, toNumber } from "../values.ts";
import { zfsNumber } from "./zfs_values.ts";

const TAG = "zfs_list";

/** One line of `zfs list`: a filesystem, volume, snapshot or bookmark. */
export type ZfsListRow = {
  name: string;
  /** lower case: filesystem | volume | snapshot | bookmark */
  type: string;
  used: number | null;
  available: number | null;
  usedbysnapshots: number | null;
  creation: number | null;
};

export type ParsedDatasets = {
  datasets: ZfsDataset[];
  errors: CollectorError[];
};

/**
 * One summary per filesystem and volume, with the count, newest and oldest
 * creation time of its own snapshots (not its children's).
 */
export function summarizeDatasets(rows: readonly ZfsListRow[]): ZfsDataset[] {
  const snapshots = new Map<string, { count: number; times: number[] }>();
  for (const row of rows) {
    if (row.type !== "snapshot") continue;
    const parent = row.name.split("@", 1)[0];
    const entry = snapshots.get(parent) ?? { count: 0, times: [] };
    entry.count++;
    // A snapshot whose creation could not be read still counts.
    if (row.creation !== null) entry.times.push(row.creation);
    snapshots.set(parent, entry);
  }
  return rows
    .filter((row) => row.type === "filesystem" || row.type === "volume")
    .map((row) => {
      const { count, times } = snapshots.get(row.name) ??
        { count: 0, times: [] };
      return {
        name: row.name,
        type: row.type,
        used_bytes: row.used,
        available_bytes: row.available,
        usedbysnapshots_bytes: row.usedbysnapshots,
        snapshot_count: count,
        newest_snapshot_unix: times.length ? Math.max(...times) : null,
        oldest_snapshot_unix: times.length ? Math.min(...times) : null,
      };
    });
}

/** Parses `zfs list -j --json-int -t all -o name,type,used,available,usedbysnapshots,creation`. */
export function parseZfsListJson(text: string): ParsedDatasets {
  const errors: ErrorList = [];
  const parsed = parseJson(text, TAG, "zfs list");
  if (!parsed.ok) return { datasets: [], errors: [parsed.error] };
  if (!isRecord(parsed.value) || !isRecord(parsed.value.datasets)) {
    return {
      datasets: [],
      errors: [{ tag: TAG, message: 'unexpected JSON: no "datasets" object' }],
    };
  }
  const rows: ZfsListRow[] = [];
  for (const [key, ds] of Object.entries(parsed.value.datasets)) {
    if (!isRecord(ds)) continue;
    const name = stringOr(ds.name) ?? key;
    const props = isRecord(ds.properties) ? ds.properties : {};
    const value = (p: string) =>
      isRecord(props[p])
        ? (props[p] as Record<string, unknown>).value
        : undefined;
    const num = (p: string) => zfsNumber(value(p), `${name}.${p}`, TAG, errors);
    rows.push({
      name,
      type: (stringOr(ds.type) ?? stringOr(value("type")) ?? "").toLowerCase(),
      used: num("used"),
      available: num("available"),
      usedbysnapshots: num("usedbysnapshots"),
      creation: num("creation"),
    });
  }
  return { datasets: summarizeDatasets(rows), errors };
}

/** Parses `zfs list -Hp -t all -o name,type,used,available,usedbysnapshots,creation`. */
export function parseZfsListText(text: string): ParsedDatasets {
  const errors: ErrorList = [];
  const rows: ZfsListRow[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const cols = line.split("\t");
    if (cols.length !== 6) {
      errors.push({
        tag: TAG,
        message: `expected 6 tab-separated columns: ${JSON.stringify(line)}`,
      });
      continue;
    }
    const [name, type, used, available, usedbysnapshots, creation] = cols;
    const num = (v: string, field: string) =>
      toNumber(v, `${name}.${field}`, TAG, errors);
    rows.push({
      name,
      type: type.toLowerCase(),
      used: num(used, "used"),
      available: num(available, "available"),
      usedbysnapshots: num(usedbysnapshots, "usedbysnapshots"),
      creation: num(creation, "creation"),
    });
  }
  return { datasets: summarizeDatasets(rows), errors };
}
