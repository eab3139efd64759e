/**
 * The fake node's issue-17 tools (smartctl, sensors and the pvesh backup and
 * replication paths) read back through the agent's own parsers, so the fake
 * and the parsers agree on the real formats. Pure: `answer()` in-process.
 */
import assert from "node:assert/strict";
import { answer } from "./answer.ts";
import { buildNodeModel } from "./node_model.ts";
import { loadNodeProfile, profilePath } from "./node_profile.ts";
import { fakeRunner } from "../../agent/testing/fake_runner.ts";
import { nodeRunner } from "./node_runner.ts";
import { smartctlRead } from "../../agent/collectors/commands.ts";
import {
  createCollectors,
  parseBackupContent,
  parseNotBackedUp,
  parseReplication,
  parseSensorsJson,
  parseSmartctl,
  parseSmartctlScan,
  parseVzdumpLog,
  parseVzdumpTasks,
  summarizeChips,
} from "../../agent/collectors/mod.ts";

const lab = buildNodeModel(
  await loadNodeProfile(profilePath("degraded_zfs23")),
);
const NOW = Date.parse("2026-03-28T12:00:00Z");

const json = (tool: string, ...args: string[]) => {
  const r = answer(lab, tool, [...args, "--output-format", "json"], NOW);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

/** The fake's answer to the agent's own read of a SAT disk. */
const readSat = (device: string, nowMs: number) => {
  const { cmd, args } = smartctlRead(device, "sat");
  return answer(lab, cmd, [...args], nowMs);
};

Deno.test("fake smartctl: every pool disk is scanned; the degraded disk's reallocated count grows with time", () => {
  const scan = parseSmartctlScan(
    answer(lab, "smartctl", ["--scan-open", "-j"], NOW).stdout,
  );
  assert.equal(scan.disks.length, 8);
  const read = (nowMs: number) => {
    const sdb = scan.disks.find((d) => d.device === "/dev/sdb")!;
    const r = readSat("/dev/sdb", nowMs);
    return parseSmartctl(r.stdout, r.code, sdb).disk!;
  };
  const before = read(NOW);
  const after = read(NOW + 30 * 60_000);
  assert.equal(before.serial, "WD-CA1L07QZ");
  assert.ok(after.ata!.reallocated_sectors! > before.ata!.reallocated_sectors!);
  assert.equal(before.ata?.pending_sectors, 2);
});

Deno.test("fake smartctl: the spare is in standby (exit 2); an unknown device cannot be opened", () => {
  const spare = readSat("/dev/sdf", NOW);
  assert.equal(spare.code, 2);
  assert.equal(
    parseSmartctl(spare.stdout, 2, {
      device: "/dev/sdf",
      type: "sat",
      protocol: "ATA",
    }).disk?.standby,
    true,
  );
  const none = answer(lab, "smartctl", ["-a", "-j", "/dev/sdz"], NOW);
  assert.equal(
    parseSmartctl(none.stdout, none.code, {
      device: "/dev/sdz",
      type: null,
      protocol: null,
    }).disk,
    null,
  );
});

Deno.test("fake sensors -j: Intel package, the warm second NVMe, board without its unwired input", () => {
  const r = answer(lab, "sensors", ["-j"], NOW);
  const s = summarizeChips(parseSensorsJson(r.stdout).chips, "sensors");
  assert.ok(Math.abs(s.cpu_package_c! - 54) < 2);
  assert.equal(s.nvme.length, 2);
  assert.ok(s.nvme[1].composite_c! > 58);
  assert.deepEqual(s.board.map((b) => b.label), ["SYSTIN", "CPUTIN"]);
});

Deno.test("fake pvesh: a nightly job run with errors for VM 103, archives for the others, CT 104 uncovered", () => {
  const { tasks } = parseVzdumpTasks(
    json(
      "pvesh",
      "get",
      "/nodes/pve-lab/tasks",
      "--typefilter",
      "vzdump",
      "--limit",
      "200",
    ),
    "t",
  );
  assert.ok(tasks.length >= 3);
  assert.deepEqual([tasks[0].status, tasks[0].ok], ["job errors", false]);
  const runs = parseVzdumpLog(
    json(
      "pvesh",
      "get",
      `/nodes/pve-lab/tasks/${encodeURIComponent(tasks[0].upid)}/log`,
      "--limit",
      "100000",
    ),
  );
  assert.deepEqual(runs.filter((r) => r.ok === false).map((r) => r.vmid), [
    103,
  ]);
  assert.ok(runs.some((r) => r.vmid === 100 && r.ok));
  const { archives } = parseBackupContent(
    json(
      "pvesh",
      "get",
      "/nodes/pve-lab/storage/tank-backups/content",
      "--content",
      "backup",
    ),
    "tank-backups",
    "t",
  );
  assert.ok(archives.some((a) => a.vmid === 100));
  assert.ok(!archives.some((a) => a.vmid === 103 || a.vmid === 104));
  const { guests } = parseNotBackedUp(
    json("pvesh", "get", "/cluster/backup-info/not-backed-up"),
    "t",
  );
  assert.deepEqual(guests.map((g) => g.vmid), [104]);
  const repl = parseReplication(
    json("pvesh", "get", "/nodes/pve-lab/replication"),
  );
  assert.deepEqual(repl.jobs.map((j) => [j.id, j.fail_count]), [["100-0", 0]]);
});

Deno.test("the agent's SMART collector on the fake node: vdevs mapped, the spare in standby, the degraded disk's sectors rising between reads", async () => {
  let nowMs = NOW;
  // programs the fake node does not have are missing, as on a bare machine
  const runner = nodeRunner(lab, () => nowMs, fakeRunner({}));
  const collectors = createCollectors({
    runner,
    procDir: "/nonexistent",
    node: lab.node,
    agentVersion: "test",
    commandTimeoutMs: 5000,
    concurrency: 4,
    smartEveryMs: 60_000,
  });
  const first = (await collectors.slow(nowMs)).smart!;
  assert.deepEqual(first.errors, []);
  const sdb = (s: typeof first) =>
    s.disks.find((d) => d.serial === "WD-CA1L07QZ")!;
  assert.deepEqual(
    [sdb(first).vdev?.pool, sdb(first).vdev?.vdev, sdb(first).vdev?.state],
    ["tank", "mirror-0", "DEGRADED"],
  );
  assert.equal(sdb(first).sectors_rising, null);
  assert.ok(first.disks.some((d) => d.standby && d.vdev === null));
  assert.ok(first.disks.filter((d) => d.vdev?.pool === "rpool").length === 2);
  nowMs += 15 * 60_000;
  const second = (await collectors.slow(nowMs)).smart!;
  assert.equal(sdb(second).sectors_rising?.reallocated, 3);
});

Deno.test("fake node without smartmontools and lm-sensors: the shell's `not found`, exit 127, for those tools only", async () => {
  const bare = buildNodeModel({
    ...(await loadNodeProfile(profilePath("degraded_zfs23"))),
    missing_tools: ["smartctl", "sensors"],
  });
  for (
    const [tool, args] of [["smartctl", ["--scan-open", "-j"]], ["sensors", [
      "-j",
    ]]] as const
  ) {
    assert.deepEqual(answer(bare, tool, [...args], NOW), {
      stdout: "",
      stderr: `sh: 1: ${tool}: not found\n`,
      code: 127,
    });
    assert.equal(answer(lab, tool, [...args], NOW).code, 0, tool);
  }
  assert.equal(answer(bare, "zpool", ["list", "-H"], NOW).code, 0);
});
