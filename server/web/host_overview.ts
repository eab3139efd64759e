/**
 * What the dashboard shows about a host, derived from its latest samples:
 * the overview figures and the problems worth an admin's attention. Pure
 * functions of the samples and the current time, so tests need no server.
 */
import type {
  FastPayload,
  MediumPayload,
  SlowPayload,
  StorageEntry,
  ZfsPool,
} from "@proxmon/shared";
import type { HostRow } from "../store/schema.ts";
import { healthFindings } from "../health/health_findings.ts";

/** Pool capacity, in percent, from which a pool counts as too full. */
export const POOL_CAPACITY_LIMIT = 80;
/** Storage use, as a fraction, from which a storage counts as too full. */
export const STORAGE_USE_LIMIT = 0.9;
/** Age of the last finished scrub after which a pool counts as neglected. */
export const SCRUB_MAX_AGE_MS = 35 * 24 * 3600 * 1000;

/** The latest stored samples of one host; any of them may be missing. */
export interface HostSnapshot {
  host: HostRow;
  fast: { collectedAtMs: number; payload: FastPayload } | null;
  medium: { collectedAtMs: number; payload: MediumPayload } | null;
  slow: { collectedAtMs: number; payload: SlowPayload } | null;
}

export type Severity = "critical" | "warning";

export interface Problem {
  severity: Severity;
  text: string;
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

/** A pool's health in upper case; UNKNOWN when the agent did not say. */
export function poolHealth(pool: ZfsPool): string {
  return pool.health?.toUpperCase() ?? "UNKNOWN";
}

/** Storages that report a usage figure worth judging. */
export function measuredStorages(storages: StorageEntry[]): StorageEntry[] {
  return storages.filter((s) =>
    s.active && s.enabled && s.used_fraction !== null
  );
}

/** Every problem a pool shows, most serious first. */
export function poolProblems(pool: ZfsPool, nowMs: number): Problem[] {
  const problems: Problem[] = [];
  if (poolHealth(pool) !== "ONLINE") {
    problems.push({
      severity: "critical",
      text: `pool ${pool.name} is ${poolHealth(pool)}`,
    });
  }
  if ((pool.error_count ?? 0) > 0) {
    problems.push({
      severity: "critical",
      text: `pool ${pool.name} has ${pool.error_count} data errors`,
    });
  }
  if (
    pool.capacity_percent !== null &&
    pool.capacity_percent >= POOL_CAPACITY_LIMIT
  ) {
    problems.push({
      severity: "warning",
      text: `pool ${pool.name} is ${pool.capacity_percent} % full`,
    });
  }
  const scrubbing = pool.scan?.function === "SCRUB" &&
    pool.scan.state === "SCANNING";
  if (!scrubbing) {
    if (pool.last_scrub_end === null) {
      problems.push({
        severity: "warning",
        text: `pool ${pool.name} was never scrubbed`,
      });
    } else if (nowMs - pool.last_scrub_end * 1000 > SCRUB_MAX_AGE_MS) {
      const days = Math.floor(
        (nowMs - pool.last_scrub_end * 1000) / 86_400_000,
      );
      problems.push({
        severity: "warning",
        text: `pool ${pool.name} last scrubbed ${days} d ago`,
      });
    }
  }
  return problems;
}

/** The problem a storage shows, if it is too full. */
export function storageProblem(storage: StorageEntry): Problem | null {
  if (
    storage.used_fraction === null ||
    storage.used_fraction < STORAGE_USE_LIMIT
  ) return null;
  return {
    severity: "warning",
    text: `storage ${storage.name} is ${
      Math.round(storage.used_fraction * 100)
    } % full`,
  };
}

/** Summarises one host for the overview. */
export function buildHostOverview(
  snap: HostSnapshot,
  nowMs: number,
): HostOverview {
  const fast = snap.fast?.payload ?? null;
  const online = snap.host.status === "online";
  const pools = fast?.zfs_pools.pools ?? [];
  const storages = measuredStorages(fast?.storage.storages ?? []);
  const guests = (fast?.vms_runtime.vms ?? []).filter((g) => !g.template);
  const h = fast?.host ?? null;

  const problems: Problem[] = [];
  if (!online) problems.push({ severity: "critical", text: "host is offline" });
  for (const pool of pools) problems.push(...poolProblems(pool, nowMs));
  for (const s of storages) {
    const p = storageProblem(s);
    if (p) problems.push(p);
  }
  // Backups, replication, SMART and temperatures (the overview loads no
  // medium sample, so its rows show the SMART ones; the host page all).
  const names = new Map(
    (fast?.vms_runtime.vms ?? []).map((g) => [g.vmid, g.name]),
  );
  for (
    const f of healthFindings(
      {
        backups: snap.medium?.payload.backups,
        replication: snap.medium?.payload.replication,
        temperatures: snap.medium?.payload.temperatures,
        smart: snap.slow?.payload.smart,
      },
      nowMs,
      (vmid) => names.get(vmid) ?? null,
    )
  ) {
    problems.push({ severity: f.severity, text: f.text });
  }
  problems.sort((a, b) =>
    (a.severity === "critical" ? 0 : 1) - (b.severity === "critical" ? 0 : 1)
  );

  const worst = maxBy(pools, (p) => -healthRank(poolHealth(p)));
  const fullestPool = maxBy(pools, (p) => p.capacity_percent);
  const fullestStorage = maxBy(storages, (s) => s.used_fraction);
  return {
    name: snap.host.name,
    online,
    lastSeenAt: snap.host.lastSeenAt,
    cpuPercent: h?.cpu_percent ?? null,
    memUsed: h && h.mem_total_bytes !== null && h.mem_available_bytes !== null
      ? h.mem_total_bytes - h.mem_available_bytes
      : null,
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
    guestsRunning: guests.filter((g) => g.status === "running").length,
    guestsTotal: guests.length,
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
