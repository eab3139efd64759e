/**
 * The cheap fake tools (bin/zpool, zfs, smartctl, sensors) through the tool
 * server answer exactly what the same tools answer as Deno processes, and
 * log their CPU in the benchmark's format.
 */
import assert from "node:assert/strict";
import {
  CPU_LOG_ENV,
  cpuLogCalls,
  cpuLogMs,
  PROFILE_ENV,
} from "./fake_tool.ts";
import { parseRequest, startToolServer } from "./tool_server.ts";
import { runTool, type ToolRun } from "./tool_run.ts";
import { profilePath } from "./node_profile.ts";
import { tempDir } from "@proxmon/shared/temp_dir";
import {
  SENSORS_JSON,
  SMARTCTL_SCAN,
  ZFS_LIST_JSON,
  ZPOOL_STATUS_TEXT,
} from "../../agent/collectors/commands.ts";

const ZFS22 = profilePath("zfs22");
const ZFS23 = profilePath("degraded_zfs23");
const SMALL = profilePath("small");

type Run = ToolRun;
const run = (
  env: Record<string, string>,
  tool: string,
  args: readonly string[],
) => runTool(tool, args, env, true);

// deno for the per-call fallback; sh, cat and bash from the system
const PATH = `${Deno.execPath().replace(/\/[^/]*$/, "")}:/usr/bin:/bin`;

Deno.test("the served tools answer what the per-call Deno tools answer: output, errors and exit codes", async () => {
  await using server = startToolServer();
  // Temperatures follow the clock; their shape and everything else must agree.
  // A reading is sometimes a whole number (49, not 49.3), so every
  // `_input` value is masked, not only decimals: the two runs a moment apart
  // then disagreed in one reading now and then, more often on a busy machine.
  const readings = (r: Run) => ({
    ...r,
    stdout: r.stdout.replace(/(_input": )-?\d+(\.\d+)?/g, "$1T")
      .replace(/\d+\.\d+/g, "T"),
  });
  const cases: [string, string, readonly string[]][] = [
    // time-independent answers, so two runs a few ms apart agree
    [SMALL, ZPOOL_STATUS_TEXT.cmd, ZPOOL_STATUS_TEXT.args],
    // ZFS 2.2 has no -j: stderr and exit 2
    [ZFS22, ZFS_LIST_JSON.cmd, ZFS_LIST_JSON.args],
    [ZFS23, "zpool", ["frobnicate"]],
    [ZFS23, SMARTCTL_SCAN.cmd, SMARTCTL_SCAN.args],
    [ZFS23, SENSORS_JSON.cmd, SENSORS_JSON.args],
  ];
  for (const [profile, tool, args] of cases) {
    const base = { PATH, [PROFILE_ENV]: profile };
    const served = await run({ ...base, ...server.env }, tool, args);
    const perCall = await run(base, tool, args);
    assert.deepEqual(
      readings(served),
      readings(perCall),
      `${tool} ${args.join(" ")}`,
    );
  }
  // The server counts a call once its last write returned, which may come
  // after the client has read the answer and exited (a call with no stdout
  // does not wait for the close): on a loaded machine, well after.
  const deadline = Date.now() + 30_000;
  while (server.answered < cases.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(server.answered, cases.length, "every served call asked it");
  const refused = await run(
    { PATH, [PROFILE_ENV]: ZFS22, ...server.env },
    "zfs",
    ZFS_LIST_JSON.args,
  );
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /invalid option 'j'/);
  assert.equal(refused.stdout, "");
});

Deno.test("the tool server sees a profile swapped under it on the next call", async () => {
  await using dir = await tempDir("proxmon-tool-server-");
  const tmp = dir.path;
  await using server = startToolServer();
  const profile = `${tmp}/node.toml`;
  const swap = async (from: string) => {
    await Deno.copyFile(from, `${profile}.tmp`);
    await Deno.rename(`${profile}.tmp`, profile);
  };
  const env = { PATH, [PROFILE_ENV]: profile, ...server.env };
  await swap(ZFS23);
  assert.equal((await run(env, "zfs", ZFS_LIST_JSON.args)).code, 0);
  await swap(ZFS22);
  const after = await run(env, "zfs", ZFS_LIST_JSON.args);
  assert.equal(after.code, 2, "ZFS 2.2 refuses -j");
});

Deno.test("a served tool logs one `tool<TAB>user<TAB>system` line per call, as the Deno tools do", async () => {
  await using dir = await tempDir("proxmon-tool-cpu-");
  const tmp = dir.path;
  await using server = startToolServer();
  const log = `${tmp}/cpu.log`;
  await Deno.writeTextFile(log, "");
  const base = { PATH, [PROFILE_ENV]: ZFS23, [CPU_LOG_ENV]: log };
  const served = await run({ ...base, ...server.env }, "zpool", [
    "status",
    "-p",
  ]);
  assert.equal(served.code, 0, served.stderr);
  assert.match(served.stdout, /pool: tank/);
  await run(base, "sensors", SENSORS_JSON.args);
  const lines = (await Deno.readTextFile(log)).split("\n").filter((l) =>
    l !== ""
  );
  assert.equal(lines.length, 2, lines.join("\n"));
  for (const line of lines) assert.match(line, /^\w+\t[\d.]+\t[\d.]+$/);
  assert.deepEqual(cpuLogCalls(lines), { zpool: 1, sensors: 1 });
  const ms = cpuLogMs(lines);
  // a Deno start-up costs tens of ms of CPU; bash's share is whatever it is
  assert.ok(ms.sensors > 10, `deno sensors ${ms.sensors} ms`);
  assert.ok(ms.zpool >= 0);
});

Deno.test("parseRequest waits for every field and rejects a bad count", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  assert.equal(parseRequest(bytes("/p\x003\x00zpool\x00list\x00")), undefined);
  assert.deepEqual(parseRequest(bytes("/p\x003\x00zpool\x00list\x00-j\x00")), {
    profile: "/p",
    argv: ["zpool", "list", "-j"],
  });
  assert.deepEqual(parseRequest(bytes("/p\x002\x00zfs\x00\x00")), {
    profile: "/p",
    argv: ["zfs", ""],
  }, "an empty argument is kept");
  assert.throws(() => parseRequest(bytes("/p\x00x\x00")), /bad field count/);
});
