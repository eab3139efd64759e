/**
 * vzdump tasks from `/nodes/{node}/tasks?typefilter=vzdump` and, for runs
 * that backed up several guests at once, which guest ended how, from the
 * task's log (`/nodes/{node}/tasks/{upid}/log`).
 *
 * A task's `status` is its exit status once it ended: `OK`, `WARNINGS: N`
 * (every guest was backed up, something was noted; PVE 9 warns about EFI
 * disks without the 2023 certificates) or an error text such as
 * `job errors` (at least one guest was lost; pve-manager VZDump.pm).
 */
import type { CollectorError, TaskOutcome } from "@proxmon/shared";
import {
  asArray,
  type ErrorList,
  isRecord,
  stringOr,
  toNumber,
} from "../values.ts";

export interface VzdumpTask extends TaskOutcome {
  /** the guest when the task backed up exactly one, else null (a job run) */
  vmid: number | null;
}

/** Whether a finished vzdump ended well: `OK` and `WARNINGS: N` did. */
export function taskOk(status: string | null, ended: boolean): boolean | null {
  if (!ended || status === null || status === "RUNNING") return null;
  return status === "OK" || status.startsWith("WARNINGS");
}

/**
 * The type and id fields of a UPID
 * (`UPID:node:pid:pstart:starttime:type:id:user:`), for entries that carry
 * only the UPID and not the fields beside it.
 */
function upidFields(upid: string): { type: string; id: string } | null {
  const parts = upid.split(":");
  return parts[0] === "UPID" && parts.length >= 8
    ? { type: parts[5], id: parts[6] }
    : null;
}

/**
 * Parses the task list (pvesh's `data`, an array). Entries that are not
 * vzdump tasks are skipped; the result is newest first. An entry without
 * `type` or `id` takes them from its UPID.
 */
export function parseVzdumpTasks(
  value: unknown,
  tag: string,
): { tasks: VzdumpTask[]; errors: CollectorError[] } {
  const errors: ErrorList = [];
  const tasks: VzdumpTask[] = [];
  for (const entry of asArray(value, tag, "task list", errors)) {
    if (!isRecord(entry)) continue;
    const upid = stringOr(entry.upid);
    const fromUpid = upid === null ? null : upidFields(upid);
    if ((entry.type ?? fromUpid?.type) !== "vzdump") continue;
    if (upid === null) {
      errors.push({ tag, message: "task without a upid, skipped" });
      continue;
    }
    const start = toNumber(entry.starttime, `${upid}.starttime`, tag, errors);
    const end = toNumber(entry.endtime, `${upid}.endtime`, tag, errors);
    const status = stringOr(entry.status);
    const id = stringOr(entry.id) ??
      (typeof entry.id === "number" ? String(entry.id) : fromUpid?.id ?? "");
    tasks.push({
      upid,
      vmid: /^\d+$/.test(id) ? Number(id) : null,
      start_unix: start,
      end_unix: end,
      status: end === null && status === null ? "running" : status,
      ok: taskOk(status, end !== null),
    });
  }
  tasks.sort((a, b) => (b.start_unix ?? 0) - (a.start_unix ?? 0));
  return { tasks, errors };
}

/** How one guest's backup ended inside a (job) task, from its log. */
export interface GuestRun {
  vmid: number;
  ok: boolean | null;
  error: string | null;
}

const STARTING = /Starting Backup of VM (\d+) \(/;
const FINISHED = /Finished Backup of VM (\d+) \(/;
const FAILED = /Backup of VM (\d+) failed - (.*)$/;

/**
 * Reads a vzdump task log (pvesh's `data`: `[{n, t}]` lines). A guest that
 * started but neither finished nor failed (the task was killed) ends as
 * `ok: null`.
 */
export function parseVzdumpLog(value: unknown): GuestRun[] {
  if (!Array.isArray(value)) return [];
  const runs = new Map<number, GuestRun>();
  for (const line of value) {
    const text = isRecord(line) ? stringOr(line.t) : null;
    if (text === null) continue;
    let m = STARTING.exec(text);
    if (m) {
      runs.set(Number(m[1]), { vmid: Number(m[1]), ok: null, error: null });
      continue;
    }
    m = FINISHED.exec(text);
    if (m) {
      const vmid = Number(m[1]);
      const run = runs.get(vmid) ?? { vmid, ok: null, error: null };
      // A guest that failed stays failed even if a later line says finished.
      if (run.ok !== false) run.ok = true;
      runs.set(vmid, run);
      continue;
    }
    m = FAILED.exec(text);
    if (m) {
      runs.set(Number(m[1]), { vmid: Number(m[1]), ok: false, error: m[2] });
    }
  }
  return [...runs.values()];
}
