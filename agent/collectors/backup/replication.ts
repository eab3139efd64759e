/**
 * Storage replication jobs (pvesr) from `/nodes/{node}/replication`: the
 * job config plus its state (`last_sync`, `last_try`, `fail_count`,
 * `error`, `duration`, `next_sync`), as pve-manager API2/Replication.pm and
 * pve-guest-common ReplicationState.pm assemble it. `fail_count` goes back
 * to 0 once a job syncs again.
 */
import type {
  CollectorError,
  Replication,
  ReplicationJob,
} from "@proxmon/shared";
import {
  asArray,
  type ErrorList,
  isRecord,
  stringOr,
  toFlag,
  toNumber,
} from "../values.ts";
import type { PveGet } from "./pve_get.ts";

const TAG = "replication";

/** Parses the job list (pvesh's `data`). */
export function parseReplication(
  value: unknown,
): { jobs: ReplicationJob[]; errors: CollectorError[] } {
  const errors: ErrorList = [];
  const jobs = asArray(value, TAG, "replication", errors).flatMap(
    (entry): ReplicationJob[] => {
      if (!isRecord(entry)) return [];
      const id = stringOr(entry.id);
      const guest = toNumber(entry.guest, `${id}.guest`, TAG, errors);
      if (id === null || guest === null) {
        errors.push({
          tag: TAG,
          message: "replication job without id or guest",
        });
        return [];
      }
      const num = (key: string) =>
        toNumber(entry[key], `${id}.${key}`, TAG, errors);
      // PVE writes 0 for "never".
      const time = (key: string) => {
        const t = num(key);
        return t === 0 ? null : t;
      };
      return [{
        id,
        guest,
        target: stringOr(entry.target),
        schedule: stringOr(entry.schedule),
        enabled: !toFlag(entry.disable),
        last_sync_unix: time("last_sync"),
        last_try_unix: time("last_try"),
        next_sync_unix: time("next_sync"),
        duration_seconds: num("duration"),
        fail_count: num("fail_count") ?? 0,
        error: stringOr(entry.error),
      }];
    },
  );
  return { jobs, errors };
}

export const REPLICATION_EVERY_MS = 5 * 60_000;

/**
 * Reads replication on the medium cycle, at most every `everyMs` (pvesr
 * jobs run every 15 min by default, so a 5-minute view loses nothing).
 */
export function createReplicationCollector(
  get: PveGet,
  node: string,
  everyMs = REPLICATION_EVERY_MS,
): { collect(nowMs: number): Promise<Replication> } {
  let last: Replication | null = null;
  let atMs = 0;
  return {
    async collect(nowMs) {
      if (last !== null && nowMs - atMs < everyMs) return last;
      const out = await get(`/nodes/${node}/replication`, {}, TAG);
      atMs = nowMs;
      if (!out.ok) {
        last = {
          jobs: last?.jobs ?? [],
          read_at_unix: null,
          errors: [out.error],
        };
        return last;
      }
      const parsed = parseReplication(out.value);
      last = {
        jobs: parsed.jobs,
        read_at_unix: Math.floor(nowMs / 1000),
        errors: parsed.errors,
      };
      return last;
    },
  };
}
