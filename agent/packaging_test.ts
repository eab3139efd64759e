/**
 * What ships: the bundle runs, the module graph stays free of native
 * addons, and the systemd unit agrees with the agent's defaults.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, spawnAgent } from "./testing/agent_process.ts";
import { bundleArgs, bundleRunFlags, compileArgs, deno } from "./build.ts";
import { AGENT_DEFAULTS } from "./config.ts";
import { AGENT_VERSION } from "./version.ts";

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

Deno.test("the bundle runs --version and --once with the binary's flags, outside the repo", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-bundle-test-" });
  try {
    const script = `${dir}/proxmon-agent.js`;
    await deno(bundleArgs(script), REPO_ROOT);

    // Run it from the temp dir: no deno.json, no node_modules around it.
    await Deno.mkdir(`${dir}/bin`);
    const run = {
      path: `${dir}/bin`,
      script,
      cwd: dir,
      runFlags: bundleRunFlags(),
    };
    const version = await spawnAgent(["--version"], run).finished;
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
      run,
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

Deno.test("the README's command for the bundle uses the binary's flags", async () => {
  const readme = await Deno.readTextFile(`${REPO_ROOT}/README.md`);
  assert.ok(
    readme.includes(`deno run ${bundleRunFlags().join(" ")} proxmon-agent.js`),
    "README.md: the bundle's deno run line differs from agent/build.ts",
  );
});

// The real runtime (denort) cannot be downloaded here, so this compiles onto
// the deno executable itself: the resulting file does not run the agent,
// but its size shows what compile embedded.
Deno.test("deno compile embeds only the bundle, not the workspace's node_modules", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-compile-test-" });
  try {
    const bundle = `${dir}/proxmon-agent.js`;
    await deno(bundleArgs(bundle), REPO_ROOT);
    const out = `${dir}/proxmon-agent`;
    const stderr = await deno(compileArgs({ bundle, out }), REPO_ROOT, {
      DENORT_BIN: Deno.execPath(),
      NO_COLOR: "1",
    });
    assert.doesNotMatch(stderr, /node_modules/);
    const added = (await Deno.stat(out)).size -
      (await Deno.stat(Deno.execPath())).size;
    // The bundle is about 0.13 MB and compile adds about 3 MB of its own;
    // compiling agent/main.ts in the workspace added 98 MB.
    assert.ok(
      added < 16 * 2 ** 20,
      `compile added ${(added / 2 ** 20).toFixed(1)} MB to the runtime`,
    );
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
