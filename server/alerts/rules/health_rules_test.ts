/**
 * The issue-17 rules through the engine on a migrated SQLite file: backups,
 * replication, SMART and temperatures, each on samples whose answer is known.
 */
import * as assert from "node:assert/strict";
import { onlyRules, startHarness, T0 } from "../testing/engine_harness.ts";
import type { Harness } from "../testing/engine_harness.ts";
import { fixtureSample } from "../../testing/samples.ts";

const MIN = 60_000;
const H = 60 * MIN;

/** Stores a sample of this interval: the fixture with `parts` in place. */
async function feedAs(
  h: Harness,
  interval: "medium" | "slow",
  at: number,
  parts: Record<string, unknown>,
) {
  h.engine.observe("pve-lab", at, await fixtureSample(interval, parts));
  await h.engine.flush();
}
/** A medium sample at `at` whose temperatures are `temperatures`. */
async function feedMedium(h: Harness, at: number, temperatures: unknown) {
  await feedAs(h, "medium", at, { temperatures });
}
/**
 * A temperatures section from lm-sensors: the CPU package at `cpu` °C, its
 * hottest core 2 °C below, and NVMe composite readings by device.
 */
const temps = (cpu: number, nvme: Record<string, number> = {}) => ({
  source: "sensors",
  cpu_package_c: cpu,
  cpu_core_max_c: cpu - 2,
  nvme: Object.entries(nvme).map(([device, composite_c]) => ({
    device,
    composite_c,
  })),
  board: [],
  errors: [],
});
const firing = (h: Harness, rule: string) =>
  h.engine.active().filter((a) => a.rule === rule && a.state === "firing")
    .map((a) => [a.object, a.severity]);

const task = (ok: boolean, status: string, atS: number) => ({
  upid: `UPID:pve-lab:1:2:${atS}:vzdump::root@pam:`,
  start_unix: atS,
  end_unix: atS + 600,
  status,
  ok,
});
const backups = (nowMs: number, newestAgeH: number) => ({
  jobs: [],
  guests: [
    {
      vmid: 100,
      last_task: task(true, "OK", nowMs / 1000 - 10 * 3600),
      newest: {
        storage: "s",
        volid: "s:a",
        ctime_unix: nowMs / 1000 - newestAgeH * 3600,
        size_bytes: 1,
      },
      archive_count: 3,
    },
    {
      vmid: 103,
      last_task: task(
        false,
        "VM 103 qmp command 'backup' failed - got timeout",
        nowMs / 1000 - 10 * 3600,
      ),
      newest: null,
      archive_count: 0,
    },
    { vmid: 104, last_task: null, newest: null, archive_count: 0 },
  ],
  not_backed_up: [{ vmid: 104, type: "lxc", name: "media" }],
  storages: [],
  tasks_read_at_unix: nowMs / 1000,
  errors: [],
});

Deno.test("backup_failed, guest_not_backed_up and backup_stale fire for the failed, the uncovered and the old", async () => {
  await using h = await startHarness(
    onlyRules("backup_failed", "guest_not_backed_up", "backup_stale"),
  );
  await feedAs(h, "medium", T0, { backups: backups(T0, 10) });
  assert.deepEqual(firing(h, "backup_failed"), [["103", "crit"]]);
  assert.deepEqual(firing(h, "guest_not_backed_up"), [["104", "warn"]]);
  // 103 (covered, no archive) is stale; 100's archive is 10 h old; 104 is uncovered
  assert.deepEqual(firing(h, "backup_stale"), [["103", "warn"]]);
  await feedAs(
    h,
    "medium",
    T0 + MIN,
    { backups: backups(T0 + MIN, 40) },
  );
  assert.deepEqual(firing(h, "backup_stale").map((x) => x[0]).sort(), [
    "100",
    "103",
  ]);
});

Deno.test("a medium sample without backups (an older agent) judges nothing", async () => {
  await using h = await startHarness(
    onlyRules("backup_failed", "guest_not_backed_up"),
  );
  await feedAs(h, "medium", T0, {});
  assert.deepEqual(h.engine.active(), []);
});

Deno.test("replication_failed fires for a failing enabled job and resolves when it syncs again", async () => {
  await using h = await startHarness(onlyRules("replication_failed"));
  const repl = (fail: number) => ({
    jobs: [{
      id: "101-0",
      guest: 101,
      target: "pve2",
      enabled: true,
      fail_count: fail,
      error: fail ? "got timeout" : null,
    }],
    read_at_unix: T0 / 1000,
    errors: [],
  });
  await feedAs(h, "medium", T0, { replication: repl(2) });
  assert.deepEqual(firing(h, "replication_failed"), [["101-0", "crit"]]);
  await feedAs(h, "medium", T0 + MIN, { replication: repl(0) });
  assert.deepEqual(firing(h, "replication_failed"), []);
});

const disk = (serial: string, over: Record<string, unknown>) => ({
  device: "/dev/sdb",
  serial,
  model: "WDC WD80EFZZ-68BTXN0",
  standby: false,
  health_passed: true,
  temperature_c: 40,
  ata: {
    reallocated_sectors: 8,
    pending_sectors: 2,
    offline_uncorrectable: 0,
    crc_errors: 0,
  },
  nvme: null,
  vdev: { pool: "tank", vdev: "mirror-0", device: "ata-x", state: "DEGRADED" },
  ...over,
});

Deno.test("smart_sectors_growing: quiet on the first reading and a flat count, fires when the count rises, stays for clear_after", async () => {
  await using h = await startHarness(onlyRules("smart_sectors_growing"));
  const at = (realloc: number) => ({
    disks: [
      disk("WD-CA1L07QZ", {
        ata: { reallocated_sectors: realloc, pending_sectors: 2 },
      }),
    ],
    errors: [],
  });
  await feedAs(h, "slow", T0, { smart: at(8) });
  await feedAs(h, "slow", T0 + 30 * MIN, { smart: at(8) });
  assert.deepEqual(firing(h, "smart_sectors_growing"), []);
  await feedAs(h, "slow", T0 + 60 * MIN, { smart: at(14) });
  assert.deepEqual(firing(h, "smart_sectors_growing"), [[
    "WD-CA1L07QZ",
    "crit",
  ]]);
  await feedAs(h, "slow", T0 + 90 * MIN, { smart: at(14) });
  assert.equal(
    firing(h, "smart_sectors_growing").length,
    1,
    "still firing after the rise",
  );
  await feedAs(h, "slow", T0 + 8 * 24 * H, { smart: at(14) });
  assert.deepEqual(
    firing(h, "smart_sectors_growing"),
    [],
    "resolved a week after the last rise",
  );
});

Deno.test("smart_failed and nvme_wear (80 % warn, 95 % crit)", async () => {
  await using h = await startHarness(onlyRules("smart_failed", "nvme_wear"));
  const smart = {
    disks: [
      disk("BAD", { health_passed: false }),
      disk("N1", {
        device: "/dev/nvme0",
        ata: null,
        nvme: {
          percentage_used: 82,
          available_spare: 100,
          media_errors: 0,
          unsafe_shutdowns: 1,
        },
      }),
      disk("N2", {
        device: "/dev/nvme1",
        ata: null,
        nvme: {
          percentage_used: 96,
          available_spare: 100,
          media_errors: 0,
          unsafe_shutdowns: 1,
        },
      }),
      disk("N3", {
        device: "/dev/nvme2",
        ata: null,
        nvme: {
          percentage_used: 10,
          available_spare: 100,
          media_errors: 0,
          unsafe_shutdowns: 1,
        },
      }),
    ],
    errors: [],
  };
  await feedAs(h, "slow", T0, { smart });
  assert.deepEqual(firing(h, "smart_failed"), [["BAD", "crit"]]);
  assert.deepEqual(firing(h, "nvme_wear").sort(), [["N1", "warn"], [
    "N2",
    "crit",
  ]]);
});

Deno.test("disk_temperature fires only after 10 min at 55 °C or more, from NVMe sensors and remembered SMART readings", async () => {
  await using h = await startHarness(onlyRules("disk_temperature"));
  await feedAs(
    h,
    "slow",
    T0,
    {
      smart: { disks: [disk("HOT", { temperature_c: 57 })], errors: [] },
    },
  );
  const nvme = (c: number) => temps(50, { "nvme-pci-0200": c });
  for (let m = 0; m <= 9; m++) await feedMedium(h, T0 + m * MIN, nvme(61));
  assert.deepEqual(firing(h, "disk_temperature"), [], "not yet 10 min");
  await feedMedium(h, T0 + 11 * MIN, nvme(61));
  assert.deepEqual(firing(h, "disk_temperature").map((x) => x[0]).sort(), [
    "HOT",
    "nvme-pci-0200",
  ]);
});

Deno.test("cpu_temperature warns from 85 °C held for 5 min", async () => {
  await using h = await startHarness(onlyRules("cpu_temperature"));
  for (let m = 0; m <= 6; m++) await feedMedium(h, T0 + m * MIN, temps(88));
  assert.deepEqual(firing(h, "cpu_temperature"), [[null, "warn"]]);
});
