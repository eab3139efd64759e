/**
 * The fast cycle's one pvesh call: `/cluster/resources` lists every guest
 * and storage of the cluster with the figures pvestatd last cached, in place
 * of the three per-node lists (`/nodes/{node}/storage`, `…/qemu`, `…/lxc`).
 *
 * What differs from those lists (pve-manager PVE/API2/Cluster.pm and
 * PVE/API2Tools.pm `extract_vm_stats`/`extract_storage_stats`; real outputs
 * in fixtures/pvesh/real/):
 * - every node's entries, each with `node`; entries of type `node`, `pool`
 *   and `sdn` too. Only this node's guests and storages are kept.
 * - guests: `maxcpu` instead of `cpus`; `template` always 0/1; `lock` and
 *   `tags` from the config; no `pressure*` (PVE 9 has them in the per-node
 *   lists only) and no `pid`/`memhost` the payload does not carry anyway.
 *   A guest pvestatd has not seen yet has only `status: "unknown"`.
 * - storages: `disk`/`maxdisk` instead of `used`/`total`, `plugintype`
 *   instead of `type`, `status` `available`/`unknown` instead of `active`,
 *   no `avail`, `enabled` or `used_fraction`; storages disabled on this node
 *   are left out. So `avail` is `maxdisk - disk` (what df calls free for
 *   dir and zfspool storages), `enabled` is true, and an `unknown` storage
 *   reads as the inactive one of `/nodes/{node}/storage`: active false,
 *   totals 0, no fraction.
 */
import type { CollectorError, GuestsRuntime, Storage } from "@proxmon/shared";
import {
  type ErrorList,
  isRecord,
  stringOr,
  toFlag,
  toNumber,
} from "../values.ts";
import { byVmid, toRuntime } from "./guest_lists.ts";
import { contentList } from "./storage.ts";

export const CLUSTER_RESOURCES_PATH = "/cluster/resources";

export interface ClusterResources {
  storage: Storage;
  vms_runtime: GuestsRuntime;
}

const STORAGE_TAG = "storage";
const GUEST_TAG = "cluster_resources";

function storageEntry(entry: Record<string, unknown>, errors: ErrorList) {
  const name = stringOr(entry.storage);
  if (name === null) {
    errors.push({
      tag: STORAGE_TAG,
      message: `entry without a storage name: ${JSON.stringify(entry)}`,
    });
    return null;
  }
  const active = entry.status === "available";
  const num = (key: string) =>
    active ? toNumber(entry[key], `${name}.${key}`, STORAGE_TAG, errors) : 0;
  const total = num("maxdisk");
  const used = num("disk");
  return {
    name,
    type: stringOr(entry.plugintype) ?? "unknown",
    content: contentList(entry.content),
    active,
    enabled: true,
    shared: toFlag(entry.shared),
    used_bytes: used,
    total_bytes: total,
    avail_bytes: total !== null && used !== null ? total - used : null,
    used_fraction: total && used !== null ? used / total : null,
  };
}

/** This node's storages and guests from a parsed `/cluster/resources`. */
export function clusterResourcesOf(
  value: unknown,
  node: string,
): ClusterResources {
  if (!Array.isArray(value)) {
    const error: CollectorError = {
      tag: GUEST_TAG,
      message: "cluster resources: expected a JSON array",
    };
    return {
      storage: { storages: [], errors: [error] },
      vms_runtime: { vms: [], errors: [error] },
    };
  }
  const storageErrors: ErrorList = [];
  const guestErrors: ErrorList = [];
  const storages = [];
  const vms = [];
  for (const entry of value) {
    if (!isRecord(entry) || entry.node !== node) continue;
    if (entry.type === "storage") {
      const storage = storageEntry(entry, storageErrors);
      if (storage) storages.push(storage);
    } else if (entry.type === "qemu" || entry.type === "lxc") {
      const guest = toRuntime(
        { ...entry, cpus: entry.cpus ?? entry.maxcpu },
        entry.type,
        GUEST_TAG,
        guestErrors,
      );
      if (guest) vms.push(guest);
    }
  }
  return {
    storage: { storages, errors: storageErrors },
    vms_runtime: { vms: vms.sort(byVmid), errors: guestErrors },
  };
}
