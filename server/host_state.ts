/**
 * One definition of a host's state, read by every view of it: the history
 * summary (store/summary.ts), the API (api/hosts.ts), the dashboard
 * (web/host_overview.ts, web/views/) and the alert rules. Each question (how
 * much memory is used, how many guests run, is a pool healthy, what is
 * wrong, how much traffic) is answered here once, so no two screens can
 * disagree. Pure functions of the parsed payload and the time.
 */
import type { HostMetrics, StorageEntry, ZfsPool } from "@proxmon/shared";

/** Pool capacity, in percent, from which a pool counts as too full. */
export const POOL_CAPACITY_LIMIT = 80;
/** Storage use, as a fraction, from which a storage counts as too full. */
export const STORAGE_USE_LIMIT = 0.9;
/** Age of the last finished scrub after which a pool counts as neglected. */
export const SCRUB_MAX_AGE_MS = 35 * 24 * 3600 * 1000;

export type Severity = "critical" | "warning";

export interface Problem {
  severity: Severity;
  text: string;
}

// ---- memory ----------------------------------------------------------------

export interface MemoryBreakdown {
  /** used by processes and guests: total − available − ARC, never below 0 */
  used: number;
  /** the ZFS ARC, which the kernel counts as used but gives back on demand */
  arc: number;
  /** available */
  free: number;
}

/**
 * Host memory by kind, adding up to the total; null when total or
 * available is unknown. On a ZFS host a healthy node with a large ARC would
 * otherwise read as nearly full.
 */
export function memoryBreakdown(h: HostMetrics): MemoryBreakdown | null {
  const used = usedMemory(
    h.mem_total_bytes,
    h.mem_available_bytes,
    h.arc?.size_bytes ?? null,
  );
  if (used === null || h.mem_available_bytes === null) return null;
  return { used, arc: h.arc?.size_bytes ?? 0, free: h.mem_available_bytes };
}

/** The definition itself, on plain numbers: total − available − ARC, ≥ 0. */
export function usedMemory(
  total: number | null,
  available: number | null,
  arc: number | null,
): number | null {
  if (total === null || available === null) return null;
  return Math.max(0, total - available - (arc ?? 0));
}

/** Memory used by processes and guests (without the ARC), or null. */
export function memUsedBytes(h: HostMetrics): number | null {
  return memoryBreakdown(h)?.used ?? null;
}

// ---- network and disks -----------------------------------------------------

// On a PVE node a packet crosses the NIC, the bridge and the guest's tap or
// veth device, so summing every interface would count it several times. The
// host total counts physical NICs only: no bridges, bonds, VLANs or guest ends.
const VIRTUAL_IFACE =
  /^(lo|tap|veth|fwbr|fwpr|fwln|vmbr|bond|docker|br-|virbr|vxlan|tun|wg)|\./;

/** True for an interface whose traffic the host's network total counts. */
export function isPhysicalIface(name: string): boolean {
  return !VIRTUAL_IFACE.test(name);
}

/** The sum of the figures reported; null (never 0) when none was. */
export function sumReported(xs: (number | null)[]): number | null {
  return xs.some((x) => x !== null)
    ? xs.reduce<number>((a, x) => a + (x ?? 0), 0)
    : null;
}

/** Bytes per second over the physical NICs; null when none reported. */
export function nicRates(h: HostMetrics): {
  rx: number | null;
  tx: number | null;
} {
  const nics = h.net.filter((n) => isPhysicalIface(n.iface));
  return {
    rx: sumReported(nics.map((n) => n.rx_bytes_per_s)),
    tx: sumReported(nics.map((n) => n.tx_bytes_per_s)),
  };
}

/** Bytes per second over every disk; null when none reported. */
export function diskRates(h: HostMetrics): {
  read: number | null;
  write: number | null;
} {
  return {
    read: sumReported(h.disks.map((d) => d.read_bytes_per_s)),
    write: sumReported(h.disks.map((d) => d.write_bytes_per_s)),
  };
}

// ---- guests ----------------------------------------------------------------

/** Guests running and in all; templates never run, so they do not count. */
export function guestCounts(
  guests: { status: string | null; template: boolean }[],
): { running: number; total: number } {
  const counted = guests.filter((g) => !g.template);
  return {
    running: counted.filter((g) => g.status === "running").length,
    total: counted.length,
  };
}

// ---- pools and storages ----------------------------------------------------

/** A pool's health in upper case; UNKNOWN when the agent did not say. */
export function poolHealth(pool: ZfsPool): string {
  return pool.health?.toUpperCase() ?? "UNKNOWN";
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

/**
 * True when no pool shows a problem: ONLINE, no data errors, not too full,
 * scrubbed lately. The same judgement the dashboard shows as problems.
 */
export function poolsHealthy(pools: ZfsPool[], nowMs: number): boolean {
  return pools.every((p) => poolProblems(p, nowMs).length === 0);
}

/** Storages that report a usage figure worth judging. */
export function measuredStorages(storages: StorageEntry[]): StorageEntry[] {
  return storages.filter((s) =>
    s.active && s.enabled && s.used_fraction !== null
  );
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

// ---- the host --------------------------------------------------------------

/**
 * Every problem of a host, critical first: offline, then each pool's, each
 * measured storage's, then `findings` (backups, replication, SMART and
 * temperatures, judged by health/health_findings.ts).
 */
export function hostProblems(
  state: {
    online: boolean;
    pools: ZfsPool[];
    storages: StorageEntry[];
    findings?: Problem[];
  },
  nowMs: number,
): Problem[] {
  const problems: Problem[] = [];
  if (!state.online) {
    problems.push({ severity: "critical", text: "host is offline" });
  }
  for (const pool of state.pools) problems.push(...poolProblems(pool, nowMs));
  for (const s of measuredStorages(state.storages)) {
    const p = storageProblem(s);
    if (p) problems.push(p);
  }
  problems.push(...state.findings ?? []);
  return problems.sort((a, b) =>
    (a.severity === "critical" ? 0 : 1) - (b.severity === "critical" ? 0 : 1)
  );
}
