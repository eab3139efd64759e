/**
 * Backup jobs (`/cluster/backup`), the guests no job covers
 * (`/cluster/backup-info/not-backed-up`) and the archives in a storage
 * (`/nodes/{node}/storage/{id}/content?content=backup`), as pvesh prints
 * their `data`. Field names follow pve-manager's API2/Backup.pm and
 * API2/Cluster/BackupInfo.pm and pve-storage's content listing.
 */
import type {
  BackupArchive,
  CollectorError,
  UncoveredGuest,
} from "@proxmon/shared";
import {
  asArray,
  type ErrorList,
  isRecord,
  splitList,
  stringOr,
  toFlag,
  toNumber,
} from "../values.ts";

/** A backup job as configured; `BackupJob` adds its last run. */
export interface JobConfig {
  id: string;
  enabled: boolean;
  schedule: string | null;
  storage: string | null;
  all: boolean;
  vmids: number[];
  exclude: number[];
  pool: string | null;
  node: string | null;
  next_run_unix: number | null;
}

function vmidList(value: unknown): number[] {
  if (typeof value === "number") return [value];
  return splitList(value).filter((x) => /^\d+$/.test(x)).map(Number);
}

/** Parses `/cluster/backup`. A job without `enabled` is enabled (PVE's default). */
export function parseBackupJobs(
  value: unknown,
  tag: string,
): { jobs: JobConfig[]; errors: CollectorError[] } {
  const errors: ErrorList = [];
  const jobs = asArray(value, tag, "backup jobs", errors).flatMap(
    (entry): JobConfig[] => {
      if (!isRecord(entry)) return [];
      const id = stringOr(entry.id);
      if (id === null) {
        errors.push({ tag, message: "backup job without an id, skipped" });
        return [];
      }
      return [{
        id,
        enabled: entry.enabled === undefined ? true : toFlag(entry.enabled),
        schedule: stringOr(entry.schedule) ?? stringOr(entry.starttime),
        storage: stringOr(entry.storage),
        all: toFlag(entry.all),
        vmids: vmidList(entry.vmid),
        exclude: vmidList(entry.exclude),
        pool: stringOr(entry.pool),
        node: stringOr(entry.node),
        next_run_unix: toNumber(
          entry["next-run"],
          `${id}.next-run`,
          tag,
          errors,
        ),
      }];
    },
  );
  return { jobs, errors };
}

/** Whether an enabled job backs up `vmid` on `node` (pool members are not resolved). */
export function jobCovers(
  job: JobConfig,
  vmid: number,
  node: string,
): boolean {
  if (!job.enabled || (job.node !== null && job.node !== node)) return false;
  if (job.all) return !job.exclude.includes(vmid);
  return job.vmids.includes(vmid);
}

/** Parses `/cluster/backup-info/not-backed-up`: `[{vmid, type, name?}]`. */
export function parseNotBackedUp(
  value: unknown,
  tag: string,
): { guests: UncoveredGuest[]; errors: CollectorError[] } {
  const errors: ErrorList = [];
  const guests = asArray(value, tag, "not-backed-up", errors).flatMap(
    (entry) => {
      if (!isRecord(entry)) return [];
      const vmid = toNumber(entry.vmid, "vmid", tag, errors);
      if (vmid === null) return [];
      return [{
        vmid,
        type: stringOr(entry.type),
        name: stringOr(entry.name),
      }];
    },
  );
  return { guests, errors };
}

export interface ListedArchive extends BackupArchive {
  vmid: number;
}

/**
 * Parses a storage's backup content listing. Entries without a vmid (a
 * dump file renamed by hand) are skipped: they belong to no guest.
 */
export function parseBackupContent(
  value: unknown,
  storage: string,
  tag: string,
): { archives: ListedArchive[]; errors: CollectorError[] } {
  const errors: ErrorList = [];
  const archives = asArray(value, tag, `${storage} content`, errors).flatMap(
    (entry): ListedArchive[] => {
      if (!isRecord(entry)) return [];
      if (entry.content !== undefined && entry.content !== "backup") return [];
      const volid = stringOr(entry.volid);
      const vmid = toNumber(entry.vmid, `${volid}.vmid`, tag, errors);
      if (volid === null || vmid === null) return [];
      const verification = isRecord(entry.verification)
        ? stringOr(entry.verification.state)
        : null;
      return [{
        vmid,
        storage,
        volid,
        ctime_unix: toNumber(entry.ctime, `${volid}.ctime`, tag, errors),
        size_bytes: toNumber(entry.size, `${volid}.size`, tag, errors),
        format: stringOr(entry.format),
        protected: toFlag(entry.protected),
        verification,
        notes: stringOr(entry.notes),
      }];
    },
  );
  return { archives, errors };
}
