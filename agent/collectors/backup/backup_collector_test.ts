import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import { fakeRunner } from "../../testing/fake_runner.ts";
import { lineOf } from "../commands.ts";
import { createBackupCollector } from "./backup_collector.ts";
import { pveshGetWith, pveshSource } from "./pve_get.ts";

const NODE = "pve-lab";
const fx = (name: string) => readFixture(`pvesh/backups/${name}`);
const TASKS = fx(
  "nodes_tasks_vzdump__constructed_pve9_job_errors_manual_warnings.json",
);
const tasks = JSON.parse(TASKS) as {
  upid: string;
  id: string;
  status: string;
}[];
const failedJob = tasks.find((t) => t.status === "job errors")!;
const line = (path: string, params: Record<string, string | number> = {}) =>
  lineOf(pveshGetWith(path, params));

function answers(overrides: Record<string, string> = {}) {
  const table: Record<string, string> = {
    [line(`/nodes/${NODE}/tasks`, { typefilter: "vzdump", limit: 200 })]: TASKS,
    [line("/cluster/backup")]: JSON.stringify([
      {
        id: "nightly",
        type: "vzdump",
        all: 1,
        schedule: "02:00",
        storage: "tank-backups",
        enabled: 1,
      },
    ]),
    [line("/cluster/backup-info/not-backed-up")]: fx(
      "cluster_backup-info_not-backed-up__constructed.json",
    ),
    [line(`/nodes/${NODE}/storage`, { content: "backup" })]: JSON.stringify([
      {
        storage: "tank-backups",
        content: "backup",
        enabled: 1,
        active: 1,
        type: "dir",
      },
      {
        storage: "nas-archive",
        content: "backup,iso",
        enabled: 1,
        active: 0,
        type: "nfs",
      },
    ]),
    [
      line(`/nodes/${NODE}/storage/tank-backups/content`, { content: "backup" })
    ]: JSON.stringify([
      {
        volid:
          "tank-backups:backup/vzdump-qemu-100-2026_03_28-02_00_01.vma.zst",
        vmid: 100,
        ctime: 1774663201,
        size: 5_000_000_000,
        format: "vma.zst",
        content: "backup",
        subtype: "qemu",
      },
      {
        volid:
          "tank-backups:backup/vzdump-qemu-100-2026_03_27-02_00_01.vma.zst",
        vmid: 100,
        ctime: 1774576801,
        size: 4_900_000_000,
        format: "vma.zst",
        content: "backup",
        subtype: "qemu",
      },
      {
        volid: "tank-backups:backup/vzdump-lxc-104-2026_03_28-02_31_40.tar.zst",
        vmid: 104,
        ctime: 1774665100,
        size: 700_000_000,
        format: "tar.zst",
        content: "backup",
        subtype: "lxc",
      },
    ]),
    [
      line(`/nodes/${NODE}/tasks/${encodeURIComponent(failedJob.upid)}/log`, {
        limit: 100000,
      })
    ]: fx(
      "tasks_log__vzdump_job_errors_lines_from_check_pve_issue85_pve9.1.7.json",
    ),
    ...overrides,
  };
  // the two older job runs ended OK: their logs list guest 100 as finished
  for (const t of tasks.filter((t) => t.id === "" && t !== failedJob)) {
    table[
      line(`/nodes/${NODE}/tasks/${encodeURIComponent(t.upid)}/log`, {
        limit: 100000,
      })
    ] ??= JSON.stringify([
      { n: 1, t: "INFO: Starting Backup of VM 100 (qemu)" },
      { n: 2, t: "INFO: Finished Backup of VM 100 (00:12:00)" },
    ]);
  }
  return table;
}

const exec = (runner: ReturnType<typeof fakeRunner>) => ({
  runner,
  timeoutMs: 1000,
});
const T0 = 1774670000_000;

Deno.test("backups: per guest the newest outcome and archive; the failed guest of a job run; jobs' last run; uncovered guests", async () => {
  const runner = fakeRunner(answers());
  const c = createBackupCollector(pveshSource(exec(runner)), {
    node: NODE,
    guestIds: () => [100, 104, 111],
  });
  const b = await c.collect(T0);
  assert.deepEqual(b.errors, []);
  const g = Object.fromEntries(b.guests.map((x) => [x.vmid, x]));
  assert.equal(g[100].last_task?.ok, true);
  assert.equal(g[100].newest?.ctime_unix, 1774663201);
  assert.equal(g[100].archive_count, 2);
  assert.equal(g[104].last_task?.ok, true);
  assert.equal(g[104].newest?.size_bytes, 700_000_000);
  assert.equal(g[111].last_task?.ok, false);
  assert.match(g[111].last_task?.status ?? "", /got timeout/);
  assert.equal(g[111].newest, null);
  assert.equal(b.jobs[0].last_run?.ok, false);
  // 9000 is uncovered but not on this node (not in guestIds)
  assert.deepEqual(b.not_backed_up.map((x) => x.vmid), [104]);
  // the inactive NFS storage is not listed
  assert.deepEqual(b.storages.map((s) => s.storage), ["tank-backups"]);
});

Deno.test("backups: sources are re-read on their own clocks, storages only after a newer vzdump or hourly, logs once", async () => {
  const runner = fakeRunner(answers());
  const c = createBackupCollector(pveshSource(exec(runner)), { node: NODE });
  await c.collect(T0);
  const first = runner.calls.length;
  assert.equal(first, 4 + 1 + 3); // tasks, jobs, uncovered, storages; one listing; three job logs
  await c.collect(T0 + 60_000);
  assert.equal(runner.calls.length, first, "nothing is due a minute later");
  await c.collect(T0 + 5 * 60_000);
  assert.deepEqual(runner.calls.slice(first), [
    line(`/nodes/${NODE}/tasks`, { typefilter: "vzdump", limit: 200 }),
  ]);
  const afterTasks = runner.calls.length;
  await c.collect(T0 + 15 * 60_000);
  assert.equal(
    runner.calls.length - afterTasks,
    4,
    "tasks + jobs + uncovered + storages, no re-listing",
  );
  const beforeHour = runner.calls.length;
  await c.collect(T0 + 60 * 60_000);
  assert.ok(
    runner.calls.slice(beforeHour).some((l) =>
      l.includes("/storage/tank-backups/content")
    ),
    "re-listed hourly",
  );
});

Deno.test("backups: a vzdump that ended after the last listing triggers a re-listing at the next task read", async () => {
  let current = JSON.parse(TASKS);
  const table = answers();
  const taskLine = line(`/nodes/${NODE}/tasks`, {
    typefilter: "vzdump",
    limit: 200,
  });
  const runner = fakeRunner(table);
  const c = createBackupCollector(pveshSource(exec(runner)), { node: NODE });
  await c.collect(T0);
  const now = T0 + 5 * 60_000;
  current = [{
    ...current[0],
    upid: "UPID:pve-lab:00000001:00000002:69C77000:vzdump:104:root@pam:",
    starttime: T0 / 1000 + 60,
    endtime: T0 / 1000 + 120,
  }, ...current];
  table[taskLine] = JSON.stringify(current);
  const before = runner.calls.length;
  await c.collect(now);
  assert.ok(
    runner.calls.slice(before).some((l) =>
      l.includes("/storage/tank-backups/content")
    ),
  );
});

Deno.test("backups: a failing source keeps the last value and adds its error; pvesh missing is one entry per source", async () => {
  const runner = fakeRunner({});
  const c = createBackupCollector(pveshSource(exec(runner)), { node: NODE });
  const b = await c.collect(T0);
  assert.deepEqual(b.guests, []);
  assert.equal(b.errors.length, 4);
  assert.ok(
    b.errors.every((e) =>
      e.tag === "backups" && /command not found/.test(e.message)
    ),
  );
});
