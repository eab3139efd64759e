/**
 * Parsers for OpenZFS 2.3+ JSON: `zpool list -j --json-int` and
 * `zpool status -j --json-flat-vdevs --json-int`.
 *
 * GUIDs print as unsigned 64-bit integers and lose precision in
 * `JSON.parse`; nothing here reads them, vdevs are matched by name.
 */
import { parseJson } from "../exec.ts";
import { type ErrorList, isRecord, stringOr } from "../values.ts";
import type { ParsedPools, PoolStatus, PoolUsage } from "./pools.ts";
import { lastScrubEnd, scanFromStats } from "./scan.ts";
import { countVdevs, type VdevNode } from "./vdev_tree.ts";
import { zfsNumber } from "./zfs_values.ts";

const LIST_TAG = "zpool_list";
const STATUS_TAG = "zpool_status";

/** The `pools` map of a JSON envelope as [name, pool] pairs, or an error. */
function poolEntries(
  text: string,
  tag: string,
  errors: ErrorList,
): [string, Record<string, unknown>][] {
  const parsed = parseJson(text, tag, tag.replace("_", " "));
  if (!parsed.ok) {
    errors.push(parsed.error);
    return [];
  }
  if (!isRecord(parsed.value) || !isRecord(parsed.value.pools)) {
    errors.push({ tag, message: 'unexpected JSON: no "pools" object' });
    return [];
  }
  // Pools are keyed by name, or by GUID with -g; the name field is always there.
  return Object.entries(parsed.value.pools).flatMap(([key, pool]) =>
    isRecord(pool) ? [[stringOr(pool.name) ?? key, pool]] : []
  );
}

/** Parses `zpool list -j --json-int`: values sit under `properties.<name>.value`. */
export function parseZpoolListJson(text: string): ParsedPools<PoolUsage> {
  const errors: ErrorList = [];
  const pools = poolEntries(text, LIST_TAG, errors).map(([name, pool]) => {
    const props = isRecord(pool.properties) ? pool.properties : {};
    const value = (key: string) =>
      isRecord(props[key])
        ? (props[key] as Record<string, unknown>).value
        : undefined;
    const num = (key: string) =>
      zfsNumber(value(key), `${name}.${key}`, LIST_TAG, errors);
    return {
      name,
      health: stringOr(value("health")) ?? stringOr(pool.state),
      size_bytes: num("size"),
      allocated_bytes: num("allocated"),
      free_bytes: num("free"),
      fragmentation_percent: num("fragmentation"),
      capacity_percent: num("capacity"),
    };
  });
  return { pools, errors };
}

// Class groups: pool-level siblings of `vdevs` in nested status output, and
// keys inside `vdevs` in `zpool list -v`. Neither is a vdev itself.
const CLASS_GROUPS = ["logs", "special", "dedup", "l2cache", "cache", "spares"];
// Removed devices leave indirect vdevs behind, and holes mark removed slots.
const NOT_DEVICES = new Set(["indirect", "hole"]);

function vdevNodes(map: unknown, poolName: string, top: boolean): VdevNode[] {
  if (!isRecord(map)) return [];
  return Object.entries(map).flatMap(([key, vdev]): VdevNode[] => {
    if (!isRecord(vdev)) return [];
    const name = stringOr(vdev.name);
    if (name === null && CLASS_GROUPS.includes(key)) {
      return [{
        name: key,
        state: null,
        structural: true,
        children: vdevNodes(vdev, poolName, false),
      }];
    }
    const type = stringOr(vdev.vdev_type);
    if (type !== null && NOT_DEVICES.has(type)) return [];
    return [{
      name: name ?? key,
      state: stringOr(vdev.state),
      structural: type === "root" || (top && (name ?? key) === poolName),
      children: vdevNodes(vdev.vdevs, poolName, false),
    }];
  });
}

/** The whole vdev tree of a status pool, including class groups beside `vdevs`. */
function poolTree(name: string, pool: Record<string, unknown>): VdevNode[] {
  const groups = CLASS_GROUPS.filter((g) => isRecord(pool[g])).map((g) => ({
    name: g,
    state: null,
    structural: true,
    children: vdevNodes(pool[g], name, false),
  }));
  return [...vdevNodes(pool.vdevs, name, true), ...groups];
}

/**
 * Parses `zpool status -j --json-flat-vdevs --json-int` (and the nested form
 * without `--json-flat-vdevs`). `error_count` is the pool's count of
 * persistent data errors; `scan_stats` is absent on never-scanned pools.
 */
export function parseZpoolStatusJson(text: string): ParsedPools<PoolStatus> {
  const errors: ErrorList = [];
  const pools = poolEntries(text, STATUS_TAG, errors).map(([name, pool]) => {
    const scan = scanFromStats(pool.scan_stats, STATUS_TAG, errors);
    return {
      name,
      state: stringOr(pool.state),
      error_count: zfsNumber(
        pool.error_count,
        `${name}.error_count`,
        STATUS_TAG,
        errors,
      ),
      ...countVdevs(poolTree(name, pool)),
      scan,
      last_scrub_end: lastScrubEnd(scan),
    };
  });
  return { pools, errors };
}

/** Each pool's vdev tree from `zpool status -j`, for mapping disks to vdevs. */
export function zpoolStatusTreesJson(
  text: string,
): { pool: string; roots: VdevNode[] }[] {
  const errors: ErrorList = [];
  return poolEntries(text, STATUS_TAG, errors).map(([name, pool]) => ({
    pool: name,
    roots: poolTree(name, pool),
  }));
}
