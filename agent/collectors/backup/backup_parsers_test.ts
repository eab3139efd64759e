import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import {
  jobCovers,
  parseBackupContent,
  parseBackupJobs,
  parseNotBackedUp,
} from "./backup_config.ts";
import { parseReplication } from "./replication.ts";
import { parseVzdumpLog, parseVzdumpTasks } from "./vzdump_tasks.ts";

const json = (name: string) => JSON.parse(readFixture(`pvesh/backups/${name}`));

Deno.test("parseVzdumpTasks() skips tasks of other types (a real PVE task list)", () => {
  const { tasks, errors } = parseVzdumpTasks(
    json("nodes_tasks__ansible_pve6.4_recorded_srvreload_one_failed.json"),
    "backups",
  );
  assert.deepEqual(tasks, []);
  assert.deepEqual(errors, []);
});

Deno.test("parseVzdumpTasks() reads outcomes newest first: job errors fail, OK and WARNINGS succeed, a one-guest task names its guest", () => {
  const { tasks } = parseVzdumpTasks(
    json(
      "nodes_tasks_vzdump__constructed_pve9_job_errors_manual_warnings.json",
    ),
    "backups",
  );
  assert.deepEqual(
    tasks.map((t) => [t.vmid, t.status, t.ok]),
    [[104, "OK", true], [null, "job errors", false], [null, "OK", true], [
      null,
      "WARNINGS: 2",
      true,
    ]],
  );
  assert.equal(tasks[1].end_unix! - tasks[1].start_unix!, 1843);
});

Deno.test("parseVzdumpTasks() reads a real PVE 9.2 list that keeps only upid, status and times: type and guest from the UPID, a storage error fails, RUNNING is running", () => {
  const { tasks, errors } = parseVzdumpTasks(
    json(
      "nodes_tasks_vzdump__chrismfz-cfm_vega_pve9.2_FIELDS_REDUCED_BY_AUTHOR.json",
    ),
    "backups",
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(tasks.map((t) => [t.vmid, t.ok]), [
    [null, null],
    [null, false],
    [null, true],
    [null, false],
    [2675, true],
  ]);
  assert.equal(tasks[0].status, "RUNNING");
  assert.equal(tasks[1].end_unix! - tasks[1].start_unix!, 25145);
  // A task of another type, said only by its UPID, is still skipped.
  assert.deepEqual(
    parseVzdumpTasks([{
      upid: "UPID:vega:1:2:3:srvreload:networking:root@pam:",
      status: "OK",
    }], "b").tasks,
    [],
  );
});

Deno.test("parseVzdumpTasks() treats a task without end time as running, and a non-array as an error", () => {
  const { tasks } = parseVzdumpTasks(
    [{
      type: "vzdump",
      upid: "UPID:n:1:2:3:vzdump::root@pam:",
      starttime: 10,
      id: "",
    }],
    "backups",
  );
  assert.deepEqual([tasks[0].status, tasks[0].ok], ["running", null]);
  assert.equal(parseVzdumpTasks({ data: [] }, "backups").errors.length, 1);
});

Deno.test("parseVzdumpLog() tells which guest of a job run failed, with vzdump's reason (PVE 9.1.7 log lines)", () => {
  const runs = parseVzdumpLog(
    json(
      "tasks_log__vzdump_job_errors_lines_from_check_pve_issue85_pve9.1.7.json",
    ),
  );
  assert.deepEqual(runs, [
    { vmid: 100, ok: true, error: null },
    {
      vmid: 111,
      ok: false,
      error: "VM 111 qmp command 'backup' failed - got timeout",
    },
  ]);
});

Deno.test("parseBackupJobs() reads real jobs: schedule, storage, guest lists; enabled by default", () => {
  const { jobs, errors } = parseBackupJobs(
    json("cluster_backup__ansible_2024_two_jobs.json"),
    "backups",
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(
    jobs.map((
      j,
    ) => [j.id, j.schedule, j.storage, j.vmids, j.enabled, j.next_run_unix]),
    [
      ["backup-83831498-c631", "06,18:30", "local", [100], true, 1735138800],
      [
        "backup-70025700-2302",
        "sat 15:00",
        "local",
        [100, 101, 102],
        true,
        1735385400,
      ],
    ],
  );
  assert.ok(jobCovers(jobs[1], 101, "pve"));
  assert.ok(!jobCovers(jobs[0], 101, "pve"));
  const all = { ...jobs[0], all: true, exclude: [9000], vmids: [] };
  assert.ok(jobCovers(all, 5, "pve") && !jobCovers(all, 9000, "pve"));
  assert.ok(!jobCovers({ ...all, node: "other" }, 5, "pve"));
  assert.ok(!jobCovers({ ...all, enabled: false }, 5, "pve"));
});

Deno.test("parseNotBackedUp() reads the uncovered guests; a guest may have no name", () => {
  const { guests } = parseNotBackedUp(
    json("cluster_backup-info_not-backed-up__constructed.json"),
    "backups",
  );
  assert.deepEqual(guests.map((g) => [g.vmid, g.type, g.name]), [[
    104,
    "lxc",
    "media",
  ], [9000, "qemu", "debian-13-cloud"]]);
  assert.deepEqual(
    parseNotBackedUp([{ vmid: 7, type: "qemu" }], "b").guests[0].name,
    null,
  );
  const real = parseNotBackedUp(
    json("cluster_backup-info_not-backed-up__chrismfz-cfm_vega_pve9.2.json"),
    "backups",
  );
  assert.deepEqual(real.errors, []);
  assert.deepEqual(real.guests.map((g) => [g.vmid, g.type, g.name]), [
    [2575, "qemu", "seo-cloud6.myipservers.gr"],
    [122, "qemu", "w2025"],
    [117, "qemu", "ngm"],
  ]);
});

Deno.test("parseBackupContent() reads a PBS listing and a directory listing with notes", () => {
  const pbs = parseBackupContent(
    json("storage_content_backup__ansible_2023_pbs_two_archives.json"),
    "datastore",
    "b",
  );
  assert.deepEqual(pbs.errors, []);
  assert.deepEqual(
    pbs.archives.map((a) => [a.vmid, a.format, a.size_bytes, a.ctime_unix]),
    [
      [931, "pbs-vm", 273804166061, 1702528474],
      [931, "pbs-vm", 273804166059, 1702582560],
    ],
  );
  const dir = parseBackupContent(
    json("storage_content_backup__iobroker_issue341_2025_dir_lxc_notes.json"),
    "backup_pve",
    "b",
  );
  assert.equal(dir.archives.length, 4);
  assert.deepEqual([
    dir.archives[0].notes,
    dir.archives[0].format,
    dir.archives[0].protected,
  ], ["iobDev, 100", "tar.zst", false]);
  // PVE 9.2.10, NFS: notes and protected are left out when empty.
  const nfs = parseBackupContent(
    json(
      "storage_content_backup__cv4pve-diag_issue52_pve9.2.10_nfs_lxc_EXCERPT.json",
    ),
    "truenas-backups",
    "b",
  );
  assert.deepEqual(nfs.errors, []);
  assert.deepEqual(
    nfs.archives.map((
      a,
    ) => [a.vmid, a.size_bytes, a.ctime_unix, a.notes, a.protected]),
    [
      [104, 1273148176, 1786864579, null, false],
      [104, 1273880991, 1787469102, null, false],
      [105, 860517483, 1783231514, "whats-next", false],
      [105, 9811196584, 1785049206, null, false],
    ],
  );
  const verified = parseBackupContent(
    [{
      volid: "p:backup/vm/1/x",
      vmid: 1,
      ctime: 5,
      size: 1,
      content: "backup",
      verification: { state: "failed", upid: "U" },
      protected: 1,
    }],
    "p",
    "b",
  );
  assert.deepEqual([
    verified.archives[0].verification,
    verified.archives[0].protected,
  ], ["failed", true]);
});

Deno.test("parseReplication() reads sync times, failures and the error; 0 means never", () => {
  const { jobs, errors } = parseReplication(
    json("nodes_replication__constructed_ok_failing_disabled.json"),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(
    jobs.map((j) => [j.id, j.guest, j.target, j.fail_count, j.enabled]),
    [
      ["100-0", 100, "pve2", 0, true],
      ["101-0", 101, "pve2", 3, true],
      ["102-0", 102, "pve3", 0, false],
    ],
  );
  assert.match(jobs[1].error ?? "", /zfs snapshot/);
  assert.equal(jobs[2].last_sync_unix, null);
  assert.equal(jobs[0].duration_seconds, 1.855912);
});
