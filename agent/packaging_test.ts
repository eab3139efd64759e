/**
 * What ships: the bundle runs, the module graph stays free of native
 * addons, and the systemd unit agrees with the agent's defaults.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, spawnAgent } from "./agent_process.ts";
import { AGENT_DEFAULTS } from "./config.ts";
import { AGENT_VERSION } from "./version.ts";

async function denoJson(): Promise<{ tasks: Record<string, unknown> }> {
  return JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`));
}

Deno.test("the agent takes nothing from npm but valibot and smol-toml (no native addons)", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "agent/main.ts"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(info.success, new TextDecoder().decode(info.stderr));
  const graph = JSON.parse(new TextDecoder().decode(info.stdout));
  const npm = new Set<string>(
    graph.modules
      .map((m: { specifier: string }) => m.specifier)
      .filter((s: string) => s.startsWith("npm:"))
      .map((s: string) => s.replace(/^npm:\/?/, "").replace(/@[^@/]+$/, "")),
  );
  assert.deepEqual([...npm].sort(), ["smol-toml", "valibot"]);
});

Deno.test("deno task bundle:agent builds one file that runs --version and --once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-bundle-test-" });
  try {
    // The task's own command, with the output moved into the temp dir.
    const task = String((await denoJson()).tasks["bundle:agent"]);
    const [deno, ...args] = task.split(/\s+/);
    assert.equal(deno, "deno");
    const out = args.indexOf("-o");
    assert.ok(out >= 0, "the task names its output with -o");
    args[out + 1] = `${dir}/proxmon-agent.js`;
    const built = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(built.success, new TextDecoder().decode(built.stderr));

    // Run it from the temp dir: no deno.json, no node_modules around it.
    await Deno.mkdir(`${dir}/bin`);
    const script = `${dir}/proxmon-agent.js`;
    const version = await spawnAgent(["--version"], {
      path: `${dir}/bin`,
      script,
      cwd: dir,
    }).finished;
    assert.deepEqual(version, {
      code: 0,
      stdout: `proxmon-agent ${AGENT_VERSION}\n`,
      stderr: "",
    });
    const once = await spawnAgent(
      [
        "--once",
        "--node",
        "pve1",
        "--proc-dir",
        `${REPO_ROOT}/fixtures/proc/pve_t0`,
      ],
      { path: `${dir}/bin`, script, cwd: dir },
    ).finished;
    assert.equal(once.code, 0, once.stderr);
    assert.deepEqual(Object.keys(JSON.parse(once.stdout)), [
      "fast",
      "medium",
      "slow",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proxmon-agent.service runs the agent with its config, restarts, and keeps /dev/zfs reachable", async () => {
  const unit = await Deno.readTextFile(
    `${import.meta.dirname}/proxmon-agent.service`,
  );
  const settings = unit.split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#") && !line.startsWith("["))
    .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]);
  const get = (key: string) =>
    settings.filter(([k]) => k === key).map(([, value]) => value);

  assert.deepEqual(get("ExecStart"), [
    `/usr/local/bin/proxmon-agent --config ${AGENT_DEFAULTS.configPath}`,
  ]);
  assert.deepEqual(get("Restart"), ["always"]);
  // The outbox default lives in the directory systemd creates for it.
  assert.deepEqual(get("StateDirectory"), ["proxmon"]);
  assert.ok(AGENT_DEFAULTS.outboxPath.startsWith("/var/lib/proxmon/"));
  // pvesh needs root; zpool needs /dev/zfs, which these would take away.
  for (const key of ["User", "DynamicUser", "DeviceAllow", "ProtectClock"]) {
    assert.deepEqual(get(key), [], `${key}= is set`);
  }
  assert.notDeepEqual(get("PrivateDevices"), ["yes"]);
  for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp"]) {
    assert.deepEqual(get(key), ["yes"], `${key}=yes`);
  }
});
