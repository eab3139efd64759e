/**
 * PVE storage usage from `/nodes/{node}/storage` (the API source) or from
 * the storage entries of `/cluster/resources` (cluster_resources.ts).
 */
import type { Storage, StorageEntry } from "@proxmon/shared";
import { parseJson } from "../exec.ts";
import type { PveSource } from "./pve_source.ts";
import {
  type ErrorList,
  isRecord,
  stringOr,
  toFlag,
  toNumber,
} from "../values.ts";

const TAG = "storage";

/**
 * Parses the storage list. PVE gives every storage `total`/`used`/`avail`
 * (0 when inactive or disabled) but `used_fraction` only when total is not 0,
 * so a missing fraction is null without complaint while missing totals are
 * reported.
 */
export function parseStorage(text: string): Storage {
  const parsed = parseJson(text, TAG, "storage list");
  if (!parsed.ok) return { storages: [], errors: [parsed.error] };
  return storageFromList(parsed.value);
}

/** The storages of a parsed `/nodes/{node}/storage` list. */
export function storageFromList(value: unknown): Storage {
  const errors: ErrorList = [];
  if (!Array.isArray(value)) {
    return {
      storages: [],
      errors: [{ tag: TAG, message: "expected a JSON array of storages" }],
    };
  }
  const storages: StorageEntry[] = [];
  for (const entry of value) {
    const name = isRecord(entry) ? stringOr(entry.storage) : null;
    if (!isRecord(entry) || name === null) {
      errors.push({
        tag: TAG,
        message: `entry without a storage name: ${JSON.stringify(entry)}`,
      });
      continue;
    }
    const missing = ["total", "used", "avail"].filter((k) =>
      entry[k] === undefined
    );
    if (missing.length > 0) {
      errors.push({
        tag: TAG,
        message: `${name}: missing ${missing.join(", ")}`,
      });
    }
    const num = (key: string) =>
      toNumber(entry[key], `${name}.${key}`, TAG, errors);
    storages.push({
      name,
      type: stringOr(entry.type) ?? "unknown",
      content: contentList(entry.content),
      active: toFlag(entry.active),
      enabled: toFlag(entry.enabled),
      shared: toFlag(entry.shared),
      used_bytes: num("used"),
      total_bytes: num("total"),
      avail_bytes: num("avail"),
      used_fraction: num("used_fraction"),
    });
  }
  return { storages, errors };
}

/** `"images,rootdir"` as a list. */
export function contentList(value: unknown): string[] {
  return (stringOr(value) ?? "").split(",").map((c) => c.trim())
    .filter((c) => c !== "");
}

/** Gets the storage list for `node` and parses it. */
export async function collectStorage(
  source: PveSource,
  node: string,
): Promise<Storage> {
  const out = await source.get(`/nodes/${node}/storage`, TAG);
  return out.ok
    ? storageFromList(out.data)
    : { storages: [], errors: [out.error] };
}
