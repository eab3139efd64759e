import assert from "node:assert/strict";
import { caseSteps } from "@proxmon/shared/case_steps";
import { NODE_EXPORTER_DISKS, readFixture } from "../../testing/fixtures.ts";
import {
  isWholeDisk,
  parseArcstats,
  parseCpuTimes,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parsePressure,
  parseUptime,
} from "./proc_parsers.ts";

const KIB = 1024;

Deno.test("parseCpuTimes() sums the cpu line without guest time, which user already holds", () => {
  // Real node_exporter fixture: cpu  301854 612 111922 8979004 3552 2 3944 0 44 36
  assert.deepEqual(parseCpuTimes(readFixture("proc/node_exporter/stat")), {
    total: 301854 + 612 + 111922 + 8979004 + 3552 + 2 + 3944 + 0,
    idle: 8979004 + 3552,
  });
});

Deno.test("parseLoadavg() reads the three load averages", () => {
  assert.deepEqual(parseLoadavg(readFixture("proc/node_exporter/loadavg")), {
    load1: 0.21,
    load5: 0.37,
    load15: 0.39,
  });
});

Deno.test("parseMeminfo() estimates available memory from MemFree+Buffers+Cached on kernels without MemAvailable", () => {
  assert.deepEqual(parseMeminfo(readFixture("proc/node_exporter/meminfo")), {
    mem_total_bytes: 3742148 * KIB,
    mem_available_bytes: (225472 + 22040 + 930888) * KIB,
    swap_total_bytes: 4194300 * KIB,
    swap_used_bytes: (4194300 - 3155360) * KIB,
  });
});

Deno.test("parseMeminfo() uses MemAvailable when the kernel has it", () => {
  const mem = parseMeminfo(readFixture("proc/pve_t0/meminfo"));
  assert.equal(mem.mem_available_bytes, 16384000 * KIB);
  assert.equal(mem.swap_used_bytes, 0);
});

Deno.test("parseUptime() reads seconds since boot", () => {
  assert.equal(parseUptime(readFixture("proc/pve_t0/uptime")), 123456.78);
});

Deno.test("parseNetDev() skips lo and reads names that run into their first number", () => {
  const net = parseNetDev(readFixture("proc/node_exporter/net/dev"));
  assert.deepEqual([...net], [
    ["vethf345468", [648, 438]],
    ["docker0", [2568, 438]],
    ["eth0", [874354587, 563352563]],
  ]);
});

Deno.test("parseDiskstats() keeps whole disks only, in bytes, across 14-, 18- and 20-field lines", () => {
  const disks = parseDiskstats(readFixture("proc/node_exporter/diskstats"));
  assert.deepEqual([...disks.keys()], NODE_EXPORTER_DISKS);
  assert.deepEqual(disks.get("sda"), [1003346126 * 512, 505697032 * 512]); // 14 fields
  assert.deepEqual(disks.get("sdb"), [9657779 * 512, 1972905 * 512]); // 18 fields
  assert.deepEqual(disks.get("sdc"), [1657779 * 512, 172905 * 512]); // 20 fields
});

Deno.test("isWholeDisk() tells disks from partitions and virtual devices", async (t) => {
  const cases: [string, boolean][] = [
    ["sda", true],
    ["sdaa", true],
    ["nvme0n1", true],
    ["vda", true],
    ["mmcblk0", true],
    ["md0", true],
    ["sda1", false],
    ["sdaa12", false],
    ["nvme0n1p2", false],
    ["mmcblk0p1", false],
    ["mmcblk0boot0", false],
    ["loop7", false],
    ["ram15", false],
    ["zram0", false],
    ["dm-3", false],
    ["sr0", false],
    ["fd0", false],
    ["zd16", false],
    ["zd0p1", false],
    ["nbd0", false],
  ];
  await caseSteps(t, cases, isWholeDisk);
});

Deno.test("the /proc parsers return null for text the kernel would not print", async (t) => {
  await t.step(
    "stat without a cpu line",
    () => assert.equal(parseCpuTimes("intr 1 2 3\n"), null),
  );
  await t.step(
    "stat with words for numbers",
    () => assert.equal(parseCpuTimes("cpu  a b c d\n"), null),
  );
  await t.step("empty loadavg", () => assert.equal(parseLoadavg(""), null));
  await t.step("empty uptime", () => assert.equal(parseUptime(""), null));
  await t.step(
    "meminfo without MemTotal",
    () => assert.equal(parseMeminfo("Foo: 1 kB\n").mem_total_bytes, null),
  );
});

Deno.test("parseArcstats() reads size, c_max, hits and misses from a real arcstats", () => {
  assert.deepEqual(
    parseArcstats(readFixture("proc/node_exporter/spl/kstat/zfs/arcstats")),
    {
      size_bytes: 1603939792,
      c_max_bytes: 8367976448,
      hits: 8772612,
      misses: 604635,
      hit_ratio: 0.9355, // 8772612 / 9377247
    },
  );
  assert.equal(parseArcstats("6 1 0x01 91 4368 1 2\nname type data\n"), null);
  assert.equal(
    parseArcstats("name type data\nsize 4 0\nc_max 4 1\nhits 4 0\nmisses 4 0\n")
      ?.hit_ratio,
    null,
  );
});

Deno.test("parsePressure() reads some and full, avg10 and avg60, from real pressure files", async (t) => {
  const psi = (
    s10: number,
    s60: number,
    f10: number | null,
    f60: number | null,
  ) => ({
    some_avg10: s10,
    some_avg60: s60,
    full_avg10: f10,
    full_avg60: f60,
  });
  await caseSteps(
    t,
    [
      ["node_exporter/io", psi(0.18, 0.34, 0.18, 0.34)],
      ["node_exporter/cpu", psi(0, 0, 0, 0)],
      // cpu before Linux 5.13: no "full" line
      ["procfs/cpu", psi(0.1, 2, null, null)],
      ["procfs/memory", psi(0.1, 2, 0.2, 3)],
    ],
    (file) => parsePressure(readFixture(`proc/pressure/${file}`)),
  );
  assert.equal(parsePressure("garbage\n"), null);
});
