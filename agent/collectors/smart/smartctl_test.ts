import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import {
  parseSmartctl,
  parseSmartctlScan,
  type ScannedDisk,
} from "./smartctl.ts";

const sat = (device: string): ScannedDisk => ({
  device,
  type: "sat",
  protocol: "ATA",
});
const read = (name: string, exit: number, scanned: ScannedDisk) =>
  parseSmartctl(readFixture(`smart/${name}`), exit, scanned);

Deno.test("parseSmartctl() reads an ATA hard disk: identity, health, temperature, hours and the four sector counters", () => {
  const r = read(
    "smartctl_a_j__hdd_wd140edfz_sat_7.0.json",
    0,
    sat("/dev/sdb"),
  );
  assert.deepEqual(r.errors, []);
  assert.equal(r.disk?.model, "WDC WD140EDFZ-11A0VA0");
  assert.equal(r.disk?.capacity_bytes, 14000519643136);
  assert.equal(r.disk?.health_passed, true);
  assert.equal(r.disk?.temperature_c, 32);
  assert.equal(r.disk?.standby, false);
  assert.ok((r.disk?.power_on_hours ?? 0) > 0);
  assert.deepEqual(r.disk?.ata, {
    reallocated_sectors: 0,
    pending_sectors: 0,
    offline_uncorrectable: 0,
    crc_errors: 0,
  });
  assert.equal(r.disk?.nvme, null);
  assert.match(r.wwn ?? "", /^0x5[0-9a-f]{15}$/);
});

Deno.test("parseSmartctl() reads an ATA SSD whose vendor has no pending/offline attributes as null, not 0", () => {
  const r = read(
    "smartctl_a_j__ssd_samsung_850pro_ata_7.0.json",
    0,
    sat("/dev/sda"),
  );
  assert.partialDeepStrictEqual(r.disk, {
    health_passed: true,
    ata: {
      reallocated_sectors: 0,
      pending_sectors: null,
      offline_uncorrectable: null,
      crc_errors: 0,
    },
  });
});

Deno.test("parseSmartctl() reads NVMe wear, spare, media errors and unsafe shutdowns", () => {
  const nvme0: ScannedDisk = {
    device: "/dev/nvme0",
    type: "nvme",
    protocol: "NVMe",
  };
  const r = read("smartctl_a_j__nvme_intel_660p_7.1.json", 0, nvme0);
  assert.partialDeepStrictEqual(r.disk, {
    model: "INTEL SSDPEKNW010T8",
    temperature_c: 36,
    power_on_hours: 2401,
    ata: null,
  });
  assert.deepEqual(r.disk?.nvme, {
    percentage_used: 0,
    available_spare: 100,
    media_errors: 0,
    unsafe_shutdowns: 43,
  });
  const worn = read(
    "smartctl_x_j__nvme_samsung_970evo_media_errors_7.0.json",
    0,
    nvme0,
  );
  assert.partialDeepStrictEqual(worn.disk?.nvme, {
    media_errors: 7,
    percentage_used: 3,
  });
});

Deno.test("parseSmartctl() reports a failing disk: health failed and its reallocated and pending sectors", () => {
  // smartctl sets exit bit 3 (DISK FAILING) beside the JSON
  const r = read(
    "smartctl_a_j__hdd_hitachi_FAILING_usbjmicron_7.1.json",
    8,
    sat("/dev/sdc"),
  );
  assert.partialDeepStrictEqual(r.disk, {
    health_passed: false,
    ata: { reallocated_sectors: 1975, pending_sectors: 8 },
  });
});

Deno.test("parseSmartctl() marks a spun-down disk as in standby and reads nothing else (exit 2 with -n standby)", () => {
  const r = read(
    "smartctl_n_standby__constructed_from_smartmontools_ataprint.json",
    2,
    sat("/dev/sdc"),
  );
  assert.partialDeepStrictEqual(r.disk, {
    standby: true,
    health_passed: null,
    temperature_c: null,
  });
  assert.deepEqual(r.errors, []);
});

Deno.test("parseSmartctl() turns a device it could not open into an error entry and no disk", () => {
  const r = read(
    "smartctl_a_j__open_failed_windows_7.0.json",
    2,
    sat("/dev/sda"),
  );
  assert.equal(r.disk, null);
  assert.equal(r.errors.length, 1);
  assert.match(
    r.errors[0].message,
    /\/dev\/sda: Smartctl open device: \/dev\/sda failed/,
  );
  assert.equal(r.permissionDenied, false);
});

Deno.test("parseSmartctl() survives text that is not JSON", () => {
  const r = parseSmartctl(
    "smartctl 7.3 2022-02-28\nsomething else\n",
    1,
    sat("/dev/sda"),
  );
  assert.equal(r.disk, null);
  assert.match(r.errors[0].message, /invalid JSON/);
});

Deno.test("parseSmartctlScan() lists the devices with their types", () => {
  const scsi = parseSmartctlScan(
    readFixture("smart/smartctl_scan_j__7_scsi.json"),
  );
  assert.equal(scsi.disks.length, 7);
  assert.deepEqual(scsi.disks[0], {
    device: "/dev/sda",
    type: "scsi",
    protocol: "SCSI",
  });
  const nvme = parseSmartctlScan(
    readFixture("smart/smartctl_scan_j__nvme.json"),
  );
  assert.deepEqual(nvme.disks, [{
    device: "/dev/nvme0",
    type: "nvme",
    protocol: "NVMe",
  }]);
});
