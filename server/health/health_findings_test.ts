import assert from "node:assert/strict";
import * as v from "valibot";
import { Backups, Replication, Smart, Temperatures } from "@proxmon/shared";
import {
  backupFailed,
  backupStale,
  cpuTemperature,
  diskTemperature,
  guestNotBackedUp,
  healthFindings,
  nvmeWear,
  replicationFailed,
  smartFailed,
  smartSectorsGrowing,
} from "./health_findings.ts";

const NOW = Date.parse("2026-03-28T12:00:00Z");
const H = 3600;
const task = (ok: boolean | null, status: string) => ({
  upid: `UPID:n:1:2:3:vzdump::root@pam:${status}`,
  start_unix: NOW / 1000 - 10 * H,
  end_unix: NOW / 1000 - 9 * H,
  status,
  ok,
});
const archive = (ageH: number) => ({
  storage: "tank-backups",
  volid: `tank-backups:backup/x-${ageH}`,
  ctime_unix: NOW / 1000 - ageH * H,
  size_bytes: 1,
});

const backups = v.parse(Backups, {
  guests: [
    {
      vmid: 100,
      last_task: task(true, "OK"),
      newest: archive(10),
      archive_count: 3,
    },
    {
      vmid: 103,
      last_task: task(
        false,
        "VM 103 qmp command 'backup' failed - got timeout",
      ),
      newest: archive(58),
      archive_count: 1,
    },
    { vmid: 104, last_task: null, newest: null, archive_count: 0 },
    {
      vmid: 105,
      last_task: task(true, "WARNINGS: 1"),
      newest: null,
      archive_count: 0,
    },
  ],
  not_backed_up: [{ vmid: 104, type: "lxc", name: "media" }],
  errors: [],
});

Deno.test("backup_failed: the guest whose newest vzdump ended in error, with vzdump's reason", () => {
  const f = backupFailed(backups, (id) => (id === 103 ? "appliance" : null));
  assert.deepEqual(f.map((x) => [x.object, x.severity]), [["103", "critical"]]);
  assert.match(f[0].text, /appliance \(103\) failed: VM 103 qmp command/);
});

Deno.test("backup_stale: covered guests with no archive newer than 36 h (or none); uncovered guests are not stale", () => {
  assert.deepEqual(backupStale(backups, NOW).map((x) => [x.object, x.value]), [[
    "103",
    58,
  ], ["105", null]]);
  assert.deepEqual(backupStale(backups, NOW, 72).map((x) => x.object), ["105"]);
});

Deno.test("guest_not_backed_up: every guest no job covers", () => {
  assert.deepEqual(guestNotBackedUp(backups).map((x) => x.text), [
    "media (104) is in no backup job",
  ]);
});

Deno.test("replication_failed: enabled jobs with failures or an error, not disabled ones", () => {
  const r = v.parse(Replication, {
    jobs: [
      {
        id: "100-0",
        guest: 100,
        target: "pve2",
        enabled: true,
        fail_count: 0,
        error: null,
      },
      {
        id: "101-0",
        guest: 101,
        target: "pve2",
        enabled: true,
        fail_count: 3,
        error: "got timeout",
      },
      {
        id: "102-0",
        guest: 102,
        target: "pve3",
        enabled: false,
        fail_count: 9,
        error: "x",
      },
    ],
    errors: [],
  });
  assert.deepEqual(replicationFailed(r).map((x) => [x.object, x.value]), [[
    "101-0",
    3,
  ]]);
});

const disk = (over: Record<string, unknown>) => ({
  device: "/dev/sdb",
  serial: "WD-CA1L07QZ",
  model: "WDC WD80EFZZ-68BTXN0",
  standby: false,
  health_passed: true,
  temperature_c: 40,
  ata: { reallocated_sectors: 8, pending_sectors: 2 },
  nvme: null,
  vdev: {
    pool: "tank",
    vdev: "mirror-0",
    device: "ata-WDC_WD80EFZZ-68BTXN0_WD-CA1L07QZ",
    state: "DEGRADED",
  },
  ...over,
});

Deno.test("smart_failed, nvme_wear (≥ 80 %), disk_temperature (≥ 55 °C, SMART and NVMe sensors)", () => {
  const s = v.parse(Smart, {
    disks: [
      disk({ health_passed: false }),
      disk({
        device: "/dev/nvme0",
        serial: "S5GX",
        ata: null,
        nvme: { percentage_used: 80 },
        temperature_c: 56,
      }),
      disk({
        device: "/dev/nvme1",
        serial: "S5GY",
        ata: null,
        nvme: { percentage_used: 79 },
      }),
      disk({
        device: "/dev/sdf",
        serial: null,
        standby: true,
        health_passed: null,
        temperature_c: null,
        ata: null,
      }),
    ],
    errors: [],
  });
  assert.deepEqual(smartFailed(s).map((x) => x.object), ["WD-CA1L07QZ"]);
  assert.match(smartFailed(s)[0].text, /in tank\/mirror-0 FAILED/);
  assert.deepEqual(nvmeWear(s).map((x) => x.object), ["S5GX"]);
  const t = v.parse(Temperatures, {
    nvme: [{ device: "nvme-pci-0200", composite_c: 61.3 }, {
      device: "nvme-pci-0100",
      composite_c: 43,
    }],
    errors: [],
  });
  assert.deepEqual(diskTemperature(s, t).map((x) => [x.object, x.value]), [[
    "S5GX",
    56,
  ], ["nvme-pci-0200", 61.3]]);
});

Deno.test("smart_sectors_growing: against an earlier reading, or the agent's own rise; never for a flat count or a sleeping disk", () => {
  const s = v.parse(Smart, { disks: [disk({})], errors: [] });
  assert.equal(smartSectorsGrowing(s).length, 0);
  assert.equal(
    smartSectorsGrowing(
      s,
      new Map([["WD-CA1L07QZ", { reallocated: 8, pending: 2 }]]),
    ).length,
    0,
  );
  const grew = smartSectorsGrowing(
    s,
    new Map([["WD-CA1L07QZ", { reallocated: 5, pending: 2 }]]),
  );
  assert.deepEqual(grew.map((x) => [x.object, x.value]), [["WD-CA1L07QZ", 8]]);
  const rising = v.parse(Smart, {
    disks: [disk({ sectors_rising: { reallocated: 3, pending: 0 } })],
    errors: [],
  });
  assert.match(
    smartSectorsGrowing(rising)[0].text,
    /reallocated sectors 8 \(\+3\)/,
  );
  const asleep = v.parse(Smart, {
    disks: [
      disk({ standby: true, sectors_rising: { reallocated: 3, pending: 0 } }),
    ],
    errors: [],
  });
  assert.equal(smartSectorsGrowing(asleep).length, 0);
});

Deno.test("cpu_temperature: warning from 85 °C, critical from 95 °C, the core maximum when there is no package", () => {
  const at = (c: number | null, core: number | null = null) =>
    cpuTemperature(
      v.parse(Temperatures, {
        cpu_package_c: c,
        cpu_core_max_c: core,
        errors: [],
      }),
    );
  assert.deepEqual(at(84.9), []);
  assert.equal(at(85)[0].severity, "warning");
  assert.equal(at(96)[0].severity, "critical");
  assert.equal(at(null, 90)[0].value, 90);
});

Deno.test("healthFindings() joins them and skips parts an older agent does not send", () => {
  assert.deepEqual(healthFindings({}, NOW), []);
  const rules = healthFindings({ backups }, NOW).map((f) => f.rule);
  assert.deepEqual([...new Set(rules)], [
    "backup_failed",
    "backup_stale",
    "guest_not_backed_up",
  ]);
});
