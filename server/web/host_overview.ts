/**
 * What the dashboard shows about a host, derived from its latest samples:
 * the overview figures and the problems worth an admin's attention. Pure
 * functions of the samples and the current time, so tests need no server.
 */
import type { FastPayload, MediumPayload, SlowPayload } from "@proxmon/shared";
import type { HostRow } from "../store/schema.ts";
import { healthFindings } from "../health/health_findings.ts";
import {
  guestCounts,
  hostProblems,
  measuredStorages,
  memUsedBytes,
  poolHealth,
  type Problem,
} from "../host_state.ts";

/** The latest stored samples of one host; any of them may be missing. */
export interface HostSnapshot {
  host: HostRow;
  fast: { collectedAtMs: number; payload: FastPayload } | null;
  medium: { collectedAtMs: number; payload: MediumPayload } | null;
  slow: { collectedAtMs: number; payload: SlowPayload } | null;
}

export interface HostOverview {
  name: string;
  online: boolean;
  lastSeenAt: number | null;
  cpuPercent: number | null;
  memUsed: number | null;
  memTotal: number | null;
  load: [number | null, number | null, number | null] | null;
  /** the pool in the worst health, ONLINE only when all are */
  worstPool: { name: string; health: string } | null;
  fullestPool: { name: string; capacityPercent: number } | null;
  fullestStorage: { name: string; usedFraction: number } | null;
  guestsRunning: number;
  guestsTotal: number;
  pendingUpdates: number | null;
  problems: Problem[];
}

// Lower is worse; a health ZFS may add later sorts after the known bad ones.
const HEALTH_ORDER = ["FAULTED", "UNAVAIL", "REMOVED", "SUSPENDED", "DEGRADED"];
const healthRank = (health: string) => {
  const i = HEALTH_ORDER.indexOf(health.toUpperCase());
  return i === -1 ? (health.toUpperCase() === "ONLINE" ? 99 : 50) : i;
};

const maxBy = <T>(xs: T[], key: (x: T) => number | null): T | null => {
  let best: T | null = null;
  let bestKey = -Infinity;
  for (const x of xs) {
    const k = key(x);
    if (k !== null && k > bestKey) {
      best = x;
      bestKey = k;
    }
  }
  return best;
};

/** Summarises one host for the overview. */
export function buildHostOverview(
  snap: HostSnapshot,
  nowMs: number,
): HostOverview {
  const fast = snap.fast?.payload ?? null;
  const online = snap.host.status === "online";
  const pools = fast?.zfs_pools.pools ?? [];
  const allStorages = fast?.storage.storages ?? [];
  const storages = measuredStorages(allStorages);
  const guests = guestCounts(fast?.vms_runtime.vms ?? []);
  const h = fast?.host ?? null;
  // Backups, replication, SMART and temperatures (the overview loads no
  // medium sample, so its rows show the SMART ones; the host page all).
  const names = new Map(
    (fast?.vms_runtime.vms ?? []).map((g) => [g.vmid, g.name]),
  );
  const findings = healthFindings(
    {
      backups: snap.medium?.payload.backups,
      replication: snap.medium?.payload.replication,
      temperatures: snap.medium?.payload.temperatures,
      smart: snap.slow?.payload.smart,
    },
    nowMs,
    (vmid) => names.get(vmid) ?? null,
  ).map((f): Problem => ({ severity: f.severity, text: f.text }));
  const problems = hostProblems(
    { online, pools, storages: allStorages, findings },
    nowMs,
  );

  const worst = maxBy(pools, (p) => -healthRank(poolHealth(p)));
  const fullestPool = maxBy(pools, (p) => p.capacity_percent);
  const fullestStorage = maxBy(storages, (s) => s.used_fraction);
  return {
    name: snap.host.name,
    online,
    lastSeenAt: snap.host.lastSeenAt,
    cpuPercent: h?.cpu_percent ?? null,
    memUsed: h ? memUsedBytes(h) : null,
    memTotal: h?.mem_total_bytes ?? null,
    load: h ? [h.load1, h.load5, h.load15] : null,
    worstPool: worst ? { name: worst.name, health: poolHealth(worst) } : null,
    fullestPool: fullestPool
      ? {
        name: fullestPool.name,
        capacityPercent: fullestPool.capacity_percent ?? 0,
      }
      : null,
    fullestStorage: fullestStorage
      ? {
        name: fullestStorage.name,
        usedFraction: fullestStorage.used_fraction ?? 0,
      }
      : null,
    guestsRunning: guests.running,
    guestsTotal: guests.total,
    pendingUpdates: snap.slow?.payload.system_info.pending_updates ?? null,
    problems,
  };
}

/** 0 for hosts with a critical problem, 1 for a warning, 2 for healthy. */
export function severityRank(host: HostOverview): number {
  if (host.problems.some((p) => p.severity === "critical")) return 0;
  return host.problems.length > 0 ? 1 : 2;
}

/**
 * A key that sorts hosts with problems first, then by name. The browser
 * re-sorts rows by this same key after a live update.
 */
export function sortKey(host: HostOverview): string {
  return `${severityRank(host)}:${host.name.toLowerCase()}`;
}

/** Orders hosts by {@link sortKey}. */
export function sortHosts(hosts: HostOverview[]): HostOverview[] {
  return [...hosts].sort((a, b) =>
    sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0
  );
}
