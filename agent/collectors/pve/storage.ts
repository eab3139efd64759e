/** PVE storage usage from `pvesh get /nodes/{node}/storage --output-format json`. */
import type { Storage, StorageEntry } from "@proxmon/shared";
import { storageList } from "../commands.ts";
import { type Exec, parseJson, runText } from "../exec.ts";
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
  const errors: ErrorList = [];
  const parsed = parseJson(text, TAG, "storage list");
  if (!parsed.ok) return { storages: [], errors: [parsed.error] };
  if (!Array.isArray(parsed.value)) {
    return {
      storages: [],
      errors: [{ tag: TAG, message: "expected a JSON array of storages" }],
    };
  }
  const storages: StorageEntry[] = [];
  for (const entry of parsed.value) {
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
      content: (stringOr(entry.content) ?? "").split(",").map((c) => c.trim())
        .filter((c) => c !== ""),
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

/** Runs the storage list for `node` and parses it. */
export async function collectStorage(
  exec: Exec,
  node: string,
): Promise<Storage> {
  const out = await runText(exec, storageList(node), TAG);
  return out.ok
    ? parseStorage(out.value)
    : { storages: [], errors: [out.error] };
}
