import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import { zpoolStatusTreesJson } from "../zfs/zpool_json.ts";
import { zpoolStatusTreesText } from "../zfs/zpool_text.ts";
import { leafBase, matchVdev, poolDevices } from "./pool_devices.ts";
import { parseSmartctl } from "./smartctl.ts";

const devicesOf = (trees: ReturnType<typeof zpoolStatusTreesJson>) =>
  trees.flatMap((t) => poolDevices(t.pool, t.roots));

Deno.test("poolDevices() lists each leaf once, under its top-level vdev, in flat JSON and in text", () => {
  const json = devicesOf(
    zpoolStatusTreesJson(readFixture("zfs/zpool_status.json")),
  );
  const text = devicesOf(
    zpoolStatusTreesText(readFixture("zfs/zpool_status.txt")),
  );
  for (const devices of [json, text]) {
    const tank = devices.filter((d) => d.pool === "tank");
    const raidz = tank.filter((d) => d.vdev === "raidz2-0");
    assert.equal(raidz.length, 6);
    assert.equal(raidz.filter((d) => d.state === "FAULTED").length, 1);
    assert.equal(
      new Set(devices.map((d) => `${d.pool}/${d.device}`)).size,
      devices.length,
    );
    assert.ok(devices.some((d) => d.pool === "rpool" && d.vdev === "mirror-0"));
  }
  assert.deepEqual(
    json.map((d) => [d.pool, d.vdev, d.device, d.state]).sort(),
    text.map((d) => [d.pool, d.vdev, d.device, d.state]).sort(),
  );
});

Deno.test("poolDevices() reads a real single-disk pool as a vdev of its own", () => {
  const devices = devicesOf(zpoolStatusTreesJson(readFixture(
    "zfs/real/zpool_status_j_flat_int__zfs2.3.1_rpi_single_disk_features_disabled.json",
  )));
  assert.equal(devices.length, 1);
  assert.equal(devices[0].vdev, devices[0].device);
});

Deno.test("leafBase() strips paths and partition suffixes", () => {
  assert.equal(
    leafBase("/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA1KX2RZ-part1"),
    "ata-WDC_WD80EFZZ-68BTXN0_WD-CA1KX2RZ",
  );
  assert.equal(leafBase("sda3"), "sda");
  assert.equal(leafBase("nvme0n1p3"), "nvme0n1");
  assert.equal(
    leafBase("wwn-0x5000c500a1b2c3d4-part2"),
    "wwn-0x5000c500a1b2c3d4",
  );
});

Deno.test("matchVdev() finds a disk by its by-id name (model + serial), its WWN or its kernel name", () => {
  const hdd = parseSmartctl(
    readFixture("smart/smartctl_a_j__hdd_wd140edfz_sat_7.0.json"),
    0,
    { device: "/dev/sdb", type: "sat", protocol: "ATA" },
  );
  const disk = { ...hdd.disk!, wwn: hdd.wwn };
  const byId = `ata-WDC_WD140EDFZ-11A0VA0_${disk.serial}-part1`;
  const vdev = { pool: "tank", vdev: "mirror-0", state: "ONLINE" };
  assert.equal(matchVdev(disk, [{ ...vdev, device: byId }])?.pool, "tank");
  assert.equal(
    matchVdev(disk, [{
      ...vdev,
      device: `/dev/disk/by-id/wwn-${disk.wwn}-part1`,
    }])?.pool,
    "tank",
  );
  assert.equal(matchVdev(disk, [{ ...vdev, device: "sdb1" }])?.pool, "tank");
  assert.equal(matchVdev(disk, [{ ...vdev, device: "sdc" }]), null);
  const nvme = {
    device: "/dev/nvme0",
    protocol: "NVMe",
    model: "INTEL SSDPEKNW010T8",
    serial: "X",
    wwn: null,
  };
  assert.equal(
    matchVdev(nvme, [{ ...vdev, device: "nvme-INTEL_SSDPEKNW010T8_X-part3" }])
      ?.vdev,
    "mirror-0",
  );
  assert.equal(
    matchVdev(nvme, [{ ...vdev, device: "nvme0n1p3" }])?.vdev,
    "mirror-0",
  );
});
