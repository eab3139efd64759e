/**
 * The medium-cycle backup collector. Every source is a pvesh call (a Perl
 * start-up of 0.3–1 s of CPU), and backups change a few times a day, so
 * each source is re-read on its own clock and the value in between is the
 * cached one:
 *
 * - the vzdump task list: every `tasksEveryMs` (default 5 min);
 * - jobs, uncovered guests and the backup storages: every `configEveryMs`
 *   (default 15 min; they change when an admin edits a job);
 * - a storage's archive listing: only when a vzdump task has finished
 *   since it was last listed, or after `relistEveryMs` (default 1 h);
 * - a job run's log (to learn which guest failed): once per task, when it
 *   ended; finished tasks never change.
 *
 * At the defaults that is about one pvesh call a minute on average, where
 * reading everything each medium cycle would be five or more.
 */
import type {
  BackupArchive,
  BackupJob,
  Backups,
  CollectorError,
  GuestBackup,
  TaskOutcome,
} from "@proxmon/shared";
import { isRecord, splitList, stringOr, toFlag } from "../values.ts";
import {
  type JobConfig,
  jobCovers,
  type ListedArchive,
  parseBackupContent,
  parseBackupJobs,
  parseNotBackedUp,
} from "./backup_config.ts";
import type { Outcome } from "../exec.ts";
import type { PveGet } from "./pve_get.ts";
import {
  type GuestRun,
  parseVzdumpLog,
  parseVzdumpTasks,
  type VzdumpTask,
} from "./vzdump_tasks.ts";

export const BACKUP_DEFAULTS = {
  tasksEveryMs: 5 * 60_000,
  configEveryMs: 15 * 60_000,
  relistEveryMs: 60 * 60_000,
  /** how many vzdump tasks to ask for (PVE's default is 50) */
  taskLimit: 200,
} as const;

export interface BackupCollectorOptions {
  node: string;
  /** The node's guests from the latest fast cycle, or null before the first one. */
  guestIds?: () => readonly number[] | null;
  tasksEveryMs?: number;
  configEveryMs?: number;
  relistEveryMs?: number;
}

export interface BackupCollector {
  collect(nowMs: number): Promise<Backups>;
}

interface Cached<T> {
  value: T;
  atMs: number;
  errors: CollectorError[];
}

type Job = JobConfig;

interface Config {
  jobs: Job[];
  notBackedUp: Backups["not_backed_up"];
  storages: string[];
}

interface Listing {
  archives: ListedArchive[];
  atMs: number;
  errors: CollectorError[];
}

const TAG = "backups";

function due(cached: { atMs: number } | null, everyMs: number, nowMs: number) {
  return cached === null || nowMs - cached.atMs >= everyMs;
}

/** Storages that hold backups and can be listed now: `content` has `backup`, enabled, active. */
export function backupStorages(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((s) => {
    if (!isRecord(s)) return [];
    const name = stringOr(s.storage);
    const content = splitList(s.content);
    const enabled = s.enabled === undefined ? true : toFlag(s.enabled);
    const active = s.active === undefined ? true : toFlag(s.active);
    return name !== null && content.includes("backup") && enabled && active
      ? [name]
      : [];
  });
}

/**
 * What a read gave, parsed (the parser's `key` and its errors), or, when the
 * read failed, `previous` with the read's error: a failed PVE call keeps
 * what was shown before, with the error beside it.
 */
function parsedOr<K extends string, T>(
  out: Outcome<unknown>,
  previous: T,
  key: K,
  parse: (
    value: unknown,
  ) => Record<NoInfer<K>, NoInfer<T>> & { errors: CollectorError[] },
): { value: T; errors: CollectorError[] } {
  if (!out.ok) return { value: previous, errors: [out.error] };
  const parsed = parse(out.value);
  return { value: parsed[key], errors: parsed.errors };
}

/** Creates the collector; all caches live in it. */
export function createBackupCollector(
  get: PveGet,
  opts: BackupCollectorOptions,
): BackupCollector {
  const node = opts.node;
  const tasksEveryMs = opts.tasksEveryMs ?? BACKUP_DEFAULTS.tasksEveryMs;
  const configEveryMs = opts.configEveryMs ?? BACKUP_DEFAULTS.configEveryMs;
  const relistEveryMs = opts.relistEveryMs ?? BACKUP_DEFAULTS.relistEveryMs;
  let tasks: Cached<VzdumpTask[]> | null = null;
  let config: Cached<Config> | null = null;
  const listings = new Map<string, Listing>();
  // Logs of finished job runs, by upid: which guest ended how.
  const logs = new Map<string, GuestRun[]>();

  async function readTasks(nowMs: number): Promise<Cached<VzdumpTask[]>> {
    const out = await get(
      `/nodes/${node}/tasks`,
      { typefilter: "vzdump", limit: BACKUP_DEFAULTS.taskLimit },
      TAG,
    );
    const read = parsedOr(
      out,
      tasks?.value ?? [],
      "tasks",
      (v) => parseVzdumpTasks(v, TAG),
    );
    return { ...read, atMs: nowMs };
  }

  async function readConfig(nowMs: number): Promise<Cached<Config>> {
    const [jobsOut, uncoveredOut, storagesOut] = await Promise.all([
      get("/cluster/backup", {}, TAG),
      get("/cluster/backup-info/not-backed-up", {}, TAG),
      get(`/nodes/${node}/storage`, { content: "backup" }, TAG),
    ]);
    const previous = config?.value;
    const jobs = parsedOr(
      jobsOut,
      previous?.jobs ?? [],
      "jobs",
      (v) => parseBackupJobs(v, TAG),
    );
    const notBackedUp = parsedOr(
      uncoveredOut,
      previous?.notBackedUp ?? [],
      "guests",
      (v) => parseNotBackedUp(v, TAG),
    );
    const storages = parsedOr(
      storagesOut,
      previous?.storages ?? [],
      "storages",
      (v) => ({ storages: backupStorages(v), errors: [] }),
    );
    return {
      value: {
        jobs: jobs.value,
        notBackedUp: notBackedUp.value,
        storages: storages.value,
      },
      atMs: nowMs,
      errors: [...jobs.errors, ...notBackedUp.errors, ...storages.errors],
    };
  }

  async function list(storage: string, nowMs: number): Promise<Listing> {
    const out = await get(
      `/nodes/${node}/storage/${storage}/content`,
      { content: "backup" },
      TAG,
    );
    const read = parsedOr(
      out,
      listings.get(storage)?.archives ?? [],
      "archives",
      (v) => parseBackupContent(v, storage, TAG),
    );
    return { archives: read.value, atMs: nowMs, errors: read.errors };
  }

  async function readLogs(finished: VzdumpTask[]): Promise<CollectorError[]> {
    const errors: CollectorError[] = [];
    const missing = finished.filter((t) =>
      t.vmid === null && t.end_unix !== null && !logs.has(t.upid)
    );
    // All at once (the shared command limit bounds them): one after the
    // other, a first cycle's four nightly logs took 4 × a pvesh start in
    // wall time before the storages were even listed.
    const outs = await Promise.all(missing.map((task) =>
      get(
        `/nodes/${node}/tasks/${encodeURIComponent(task.upid)}/log`,
        { limit: 100_000 },
        TAG,
      )
    ));
    missing.forEach((task, i) => {
      const out = outs[i];
      if (out.ok) logs.set(task.upid, parseVzdumpLog(out.value));
      else errors.push(out.error);
    });
    // Forget logs of tasks that dropped out of the list.
    const listed = new Set(finished.map((t) => t.upid));
    for (const upid of logs.keys()) if (!listed.has(upid)) logs.delete(upid);
    return errors;
  }

  return {
    async collect(nowMs) {
      const [newTasks, newConfig] = await Promise.all([
        due(tasks, tasksEveryMs, nowMs) ? readTasks(nowMs) : tasks!,
        due(config, configEveryMs, nowMs) ? readConfig(nowMs) : config!,
      ]);
      tasks = newTasks;
      config = newConfig;
      // The logs and the listings both need only the task list: together.
      const logsRead = readLogs(tasks.value);

      // A storage is re-listed once a vzdump ended after its last listing.
      const lastEndMs = Math.max(
        0,
        ...tasks.value.map((t) => (t.end_unix ?? 0) * 1000),
      );
      const stale = config.value.storages.filter((s) => {
        const listing = listings.get(s);
        return !listing || nowMs - listing.atMs >= relistEveryMs ||
          lastEndMs > listing.atMs;
      });
      const [logErrors, relisted] = await Promise.all([
        logsRead,
        Promise.all(stale.map((s) => list(s, nowMs))),
      ]);
      stale.forEach((s, i) => listings.set(s, relisted[i]));
      for (const s of listings.keys()) {
        if (!config.value.storages.includes(s)) listings.delete(s);
      }

      const listingErrors = stale.flatMap((_, i) => relisted[i].errors);
      return summarize({
        node,
        tasks: tasks.value,
        tasksAtMs: tasks.atMs,
        config: config.value,
        listings,
        logs,
        guestIds: opts.guestIds?.() ?? null,
        errors: [
          ...tasks.errors,
          ...config.errors,
          ...logErrors,
          ...listingErrors,
        ],
      });
    },
  };
}

interface SummaryInput {
  node: string;
  tasks: VzdumpTask[];
  tasksAtMs: number;
  config: Config;
  listings: Map<string, Listing>;
  logs: Map<string, GuestRun[]>;
  guestIds: readonly number[] | null;
  errors: CollectorError[];
}

/** Each guest's newest outcome: its own task, or its line in a job run's log. */
function guestOutcomes(
  tasks: VzdumpTask[],
  logs: Map<string, GuestRun[]>,
): Map<number, TaskOutcome> {
  const out = new Map<number, TaskOutcome>();
  // tasks are newest first, so the first outcome seen for a guest wins
  for (const task of tasks) {
    const { vmid: _vmid, ...outcome } = task;
    if (task.vmid !== null) {
      if (!out.has(task.vmid)) out.set(task.vmid, outcome);
      continue;
    }
    for (const run of logs.get(task.upid) ?? []) {
      if (out.has(run.vmid)) continue;
      out.set(run.vmid, {
        ...outcome,
        // the guest's own ending: a job with errors may still have backed this one up
        status: run.ok === false
          ? (run.error ?? task.status)
          : run.ok === true
          ? "OK"
          : task.status,
        ok: run.ok ?? task.ok,
      });
    }
  }
  return out;
}

function newestArchives(
  listings: Map<string, Listing>,
): Map<number, { newest: BackupArchive; count: number }> {
  const out = new Map<number, { newest: BackupArchive; count: number }>();
  for (const listing of listings.values()) {
    for (const { vmid, ...archive } of listing.archives) {
      const seen = out.get(vmid);
      if (!seen) {
        out.set(vmid, { newest: archive, count: 1 });
        continue;
      }
      seen.count++;
      if ((archive.ctime_unix ?? 0) > (seen.newest.ctime_unix ?? 0)) {
        seen.newest = archive;
      }
    }
  }
  return out;
}

/** Joins tasks, logs, listings and jobs into the payload. Pure. */
export function summarize(input: SummaryInput): Backups {
  const outcomes = guestOutcomes(input.tasks, input.logs);
  const archives = newestArchives(input.listings);
  const known = input.guestIds === null ? null : new Set(input.guestIds);
  const ids = known !== null
    ? [...known]
    : [...new Set([...outcomes.keys(), ...archives.keys()])];
  const guests: GuestBackup[] = ids.sort((a, b) => a - b).map((vmid) => ({
    vmid,
    last_task: outcomes.get(vmid) ?? null,
    newest: archives.get(vmid)?.newest ?? null,
    archive_count: archives.get(vmid)?.count ?? 0,
  }));
  const jobs: BackupJob[] = input.config.jobs.map((job) => ({
    ...job,
    last_run: jobLastRun(job, input.node, guests),
  }));
  return {
    jobs,
    not_backed_up: input.config.notBackedUp.filter((g) =>
      known === null || known.has(g.vmid)
    ),
    guests,
    storages: [...input.listings].map(([storage, l]) => ({
      storage,
      listed_at_unix: Math.floor(l.atMs / 1000),
      archive_count: l.archives.length,
    })),
    tasks_read_at_unix: Math.floor(input.tasksAtMs / 1000),
    errors: input.errors,
  };
}

/**
 * A job's last run as the PVE API can tell it: the API does not link a task
 * to the job that started it, so this is the newest outcome among the guests
 * the job covers, failed if any of those guests' newest backup failed.
 */
function jobLastRun(
  job: Job,
  node: string,
  guests: GuestBackup[],
): TaskOutcome | null {
  const runs = guests.filter((g) => jobCovers(job, g.vmid, node))
    .map((g) => g.last_task).filter((t) => t !== null);
  if (runs.length === 0) return null;
  const newest = runs.reduce((a, b) =>
    (b.start_unix ?? 0) > (a.start_unix ?? 0) ? b : a
  );
  const failed = runs.find((r) => r.ok === false);
  return failed ?? newest;
}
