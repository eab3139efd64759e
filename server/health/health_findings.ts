/**
 * The issue-17 checks as pure predicates over the typed payloads: backups,
 * replication, SMART and temperatures. The host page shows them as problems
 * (its flags), and the alert rules (server/alerts/rules/, when the engine is
 * there) are thin wrappers that add `for` durations, hysteresis and state.
 *
 * Each finding names its rule id, the object it is about and one line for
 * people. Thresholds are parameters with the documented defaults.
 */
import type {
  Backups,
  Replication,
  Smart,
  SmartDisk,
  Temperatures,
} from "@proxmon/shared";

export type FindingSeverity = "critical" | "warning";

export type HealthRuleId =
  | "backup_failed"
  | "backup_stale"
  | "guest_not_backed_up"
  | "replication_failed"
  | "smart_failed"
  | "smart_sectors_growing"
  | "nvme_wear"
  | "disk_temperature"
  | "cpu_temperature";

export interface Finding {
  rule: HealthRuleId;
  severity: FindingSeverity;
  /** what it is about: a vmid, a replication job id, a disk device or serial, `cpu` */
  object: string;
  /** the measured value, for rules with thresholds */
  value: number | null;
  text: string;
}

export const HEALTH_DEFAULTS = {
  /** backup_stale: newest archive older than this */
  backupStaleHours: 36,
  /** nvme_wear: percentage used from which a drive is worn */
  nvmeWearPercent: 80,
  /** disk_temperature: °C (the alert waits 10 min at or above it) */
  diskTemperatureC: 55,
  /** cpu_temperature: °C for a warning and a critical alert */
  cpuWarnC: 85,
  cpuCritC: 95,
} as const;

export interface GuestNames {
  /** a guest's name by vmid, for labels; absent names show the vmid only */
  (vmid: number): string | null;
}

const guestLabel = (vmid: number, names?: GuestNames) => {
  const name = names?.(vmid);
  return name ? `${name} (${vmid})` : `guest ${vmid}`;
};

/** backup_failed: a guest's newest vzdump ended in error. */
export function backupFailed(b: Backups, names?: GuestNames): Finding[] {
  return b.guests.filter((g) => g.last_task?.ok === false).map((g) => ({
    rule: "backup_failed",
    severity: "critical",
    object: String(g.vmid),
    value: null,
    text: `backup of ${guestLabel(g.vmid, names)} failed: ${
      g.last_task?.status ?? "error"
    }`,
  }));
}

/**
 * backup_stale: a guest that a job covers has no archive newer than
 * `staleHours` (or none at all). Guests no job covers are
 * guest_not_backed_up's, not this rule's.
 */
export function backupStale(
  b: Backups,
  nowMs: number,
  staleHours: number = HEALTH_DEFAULTS.backupStaleHours,
  names?: GuestNames,
): Finding[] {
  const uncovered = new Set(b.not_backed_up.map((g) => g.vmid));
  return b.guests.filter((g) => !uncovered.has(g.vmid)).flatMap((g) => {
    const ctime = g.newest?.ctime_unix ?? null;
    const ageH = ctime === null ? null : (nowMs / 1000 - ctime) / 3600;
    if (ageH !== null && ageH < staleHours) return [];
    return [{
      rule: "backup_stale" as const,
      severity: "warning" as const,
      object: String(g.vmid),
      value: ageH === null ? null : Math.round(ageH),
      text: ageH === null
        ? `${guestLabel(g.vmid, names)} has no backup on the listed storages`
        : `newest backup of ${guestLabel(g.vmid, names)} is ${
          Math.round(ageH)
        } h old`,
    }];
  });
}

/** guest_not_backed_up: no backup job covers the guest. */
export function guestNotBackedUp(b: Backups): Finding[] {
  return b.not_backed_up.map((g) => ({
    rule: "guest_not_backed_up",
    severity: "warning",
    object: String(g.vmid),
    value: null,
    text: `${
      g.name ? `${g.name} (${g.vmid})` : `guest ${g.vmid}`
    } is in no backup job`,
  }));
}

/** replication_failed: an enabled job's last sync failed (fail_count > 0 or an error). */
export function replicationFailed(r: Replication): Finding[] {
  return r.jobs.filter((j) =>
    j.enabled && ((j.fail_count ?? 0) > 0 || j.error !== null)
  ).map((j) => ({
    rule: "replication_failed",
    severity: "critical",
    object: j.id,
    value: j.fail_count,
    text: `replication ${j.id} (guest ${j.guest} to ${
      j.target ?? "?"
    }) failed ${j.fail_count ?? 0}×${j.error ? `: ${j.error}` : ""}`,
  }));
}

const diskLabel = (d: SmartDisk) =>
  `${d.device}${d.model ? ` (${d.model})` : ""}${
    d.vdev ? ` in ${d.vdev.pool}/${d.vdev.vdev}` : ""
  }`;
const diskObject = (d: SmartDisk) => d.serial ?? d.device;

/** smart_failed: SMART's overall health assessment failed. */
export function smartFailed(s: Smart): Finding[] {
  return s.disks.filter((d) => d.health_passed === false).map((d) => ({
    rule: "smart_failed",
    severity: "critical",
    object: diskObject(d),
    value: null,
    text: `SMART health of ${diskLabel(d)} FAILED`,
  }));
}

/**
 * smart_sectors_growing: reallocated or pending sectors went up. `previous`
 * maps a disk (serial, else device) to its counts at an earlier reading;
 * without one, the agent's own `sectors_rising` is used.
 */
export function smartSectorsGrowing(
  s: Smart,
  previous?: ReadonlyMap<string, { reallocated: number; pending: number }>,
): Finding[] {
  return s.disks.flatMap((d) => {
    if (d.ata === null || d.standby) return [];
    const now = {
      reallocated: d.ata.reallocated_sectors ?? 0,
      pending: d.ata.pending_sectors ?? 0,
    };
    const before = previous?.get(diskObject(d));
    const rose = before
      ? {
        reallocated: now.reallocated - before.reallocated,
        pending: now.pending - before.pending,
      }
      : {
        reallocated: d.sectors_rising?.reallocated ?? 0,
        pending: d.sectors_rising?.pending ?? 0,
      };
    if ((rose.reallocated ?? 0) <= 0 && (rose.pending ?? 0) <= 0) return [];
    return [{
      rule: "smart_sectors_growing" as const,
      severity: "critical" as const,
      object: diskObject(d),
      value: now.reallocated,
      text: `${diskLabel(d)}: reallocated sectors ${now.reallocated} (+${
        Math.max(0, rose.reallocated ?? 0)
      }), pending ${now.pending} (+${Math.max(0, rose.pending ?? 0)})`,
    }];
  });
}

/** nvme_wear: an NVMe drive's percentage used is at or above the limit. */
export function nvmeWear(
  s: Smart,
  limit: number = HEALTH_DEFAULTS.nvmeWearPercent,
): Finding[] {
  return s.disks.filter((d) => (d.nvme?.percentage_used ?? -1) >= limit).map((
    d,
  ) => ({
    rule: "nvme_wear",
    severity: "warning",
    object: diskObject(d),
    value: d.nvme!.percentage_used,
    text: `${diskLabel(d)} is ${d.nvme!.percentage_used} % worn`,
  }));
}

/**
 * disk_temperature: a disk at or above the limit, from SMART (slow cycle)
 * and from the NVMe composite sensors (medium cycle). The alert rule holds
 * it for 10 min before firing; this predicate judges one reading.
 */
export function diskTemperature(
  s: Smart | null,
  t: Temperatures | null,
  limit: number = HEALTH_DEFAULTS.diskTemperatureC,
): Finding[] {
  const out: Finding[] = [];
  for (const d of s?.disks ?? []) {
    if (d.temperature_c !== null && d.temperature_c >= limit) {
      out.push({
        rule: "disk_temperature",
        severity: "warning",
        object: diskObject(d),
        value: d.temperature_c,
        text: `${diskLabel(d)} is at ${d.temperature_c} °C`,
      });
    }
  }
  for (const n of t?.nvme ?? []) {
    if (n.composite_c !== null && n.composite_c >= limit) {
      out.push({
        rule: "disk_temperature",
        severity: "warning",
        object: n.device,
        value: n.composite_c,
        text: `NVMe ${n.device} is at ${Math.round(n.composite_c)} °C`,
      });
    }
  }
  return out;
}

/** cpu_temperature: the hottest CPU package at or above the warning limit. */
export function cpuTemperature(
  t: Temperatures,
  warn: number = HEALTH_DEFAULTS.cpuWarnC,
  crit: number = HEALTH_DEFAULTS.cpuCritC,
): Finding[] {
  const c = t.cpu_package_c ?? t.cpu_core_max_c;
  if (c === null || c < warn) return [];
  return [{
    rule: "cpu_temperature",
    severity: c >= crit ? "critical" : "warning",
    object: "cpu",
    value: c,
    text: `CPU at ${Math.round(c)} °C`,
  }];
}

/** Every finding for a host's latest medium and slow payload parts. */
export function healthFindings(
  parts: {
    backups?: Backups;
    replication?: Replication;
    temperatures?: Temperatures;
    smart?: Smart;
  },
  nowMs: number,
  names?: GuestNames,
): Finding[] {
  const { backups, replication, temperatures, smart } = parts;
  return [
    ...(backups
      ? [
        ...backupFailed(backups, names),
        ...backupStale(backups, nowMs, undefined, names),
        ...guestNotBackedUp(backups),
      ]
      : []),
    ...(replication ? replicationFailed(replication) : []),
    ...(smart
      ? [
        ...smartFailed(smart),
        ...smartSectorsGrowing(smart),
        ...nvmeWear(smart),
      ]
      : []),
    ...diskTemperature(smart ?? null, temperatures ?? null),
    ...(temperatures ? cpuTemperature(temperatures) : []),
  ];
}
