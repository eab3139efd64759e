/**
 * The PVE half of the fast cycle: storages and guest runtime. Through pvesh
 * it is one `/cluster/resources` call (cluster_resources.ts); through the
 * API, where a request costs the agent little, the three per-node lists,
 * which carry a few more fields (`avail`, PVE 9's guest `pressure*`).
 */
import type { GuestsRuntime, Storage } from "@proxmon/shared";
import {
  CLUSTER_RESOURCES_PATH,
  clusterResourcesOf,
} from "./cluster_resources.ts";
import { collectGuestsRuntime } from "./guest_lists.ts";
import type { PveSource } from "./pve_source.ts";
import { collectStorage } from "./storage.ts";

export interface PveFast {
  storage: Storage;
  vms_runtime: GuestsRuntime;
}

export async function collectPveFast(
  source: PveSource,
  node: string,
): Promise<PveFast> {
  if (source.kind === "api") {
    const [storage, vms_runtime] = await Promise.all([
      collectStorage(source, node),
      collectGuestsRuntime(source, node),
    ]);
    return { storage, vms_runtime };
  }
  const out = await source.get(CLUSTER_RESOURCES_PATH, "cluster_resources");
  if (!out.ok) {
    return {
      storage: { storages: [], errors: [out.error] },
      vms_runtime: { vms: [], errors: [out.error] },
    };
  }
  return clusterResourcesOf(out.data, node);
}
