/**
 * What ships: the bundle runs, the module graph stays free of native
 * addons, and the systemd unit agrees with the agent's defaults.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, spawnAgent } from "./testing/agent_process.ts";
import {
  AGENT_PERMISSIONS,
  bundleArgs,
  bundleRunFlags,
  compileArgs,
  deno,
  NARROW_PERMISSIONS,
} from "./build.ts";
import { startTestServer, TEST_TOKEN, until } from "./testing/test_server.ts";
import { EXIT_NO_PVE_DATA } from "./main.ts";
import { AGENT_DEFAULTS } from "./config.ts";
import { AGENT_VERSION } from "./version.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

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

/** Bundles the agent into a temp dir with an empty bin/, runs `fn`, cleans up. */
async function withBundle(
  fn: (run: {
    path: string;
    script: string;
    cwd: string;
    runFlags: string[];
  }) => Promise<void>,
): Promise<void> {
  await using tmp = await tempDir("proxmon-bundle-test-");
  const dir = tmp.path;
  const script = `${dir}/proxmon-agent.js`;
  await deno(bundleArgs(script), REPO_ROOT);
  // Run it from the temp dir: no deno.json, no node_modules around it.
  await Deno.mkdir(`${dir}/bin`);
  await fn({
    path: `${dir}/bin`,
    script,
    cwd: dir,
    runFlags: bundleRunFlags(),
  });
}

Deno.test("the bundle runs --version and --once with the binary's flags, outside the repo", async () => {
  await withBundle(async (run) => {
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
    // No PVE or ZFS tool on PATH: the sample is printed, and the exit code
    // and the last line say the install is broken.
    assert.equal(once.code, EXIT_NO_PVE_DATA, once.stderr);
    assert.deepEqual(Object.keys(JSON.parse(once.stdout)), [
      "fast",
      "medium",
      "slow",
    ]);
    const last = once.stderr.trim().split("\n").at(-1) ?? "";
    assert.match(
      last,
      /^error: \d+ commands, \d+ failed: (?=.*zpool \(not found\))(?=.*pvesh \(not found\)).*; no PVE or ZFS command produced data/,
    );
  });
});

/** Runs a one-line script reading `path` under `flags`; says what happened. */
async function readWith(
  flags: readonly string[],
  path = "/proc/stat",
): Promise<string> {
  await using tmp = await tempDir("proxmon-perm-test-");
  const dir = tmp.path;
  await Deno.writeTextFile(
    `${dir}/read.js`,
    `try { await Deno.readTextFile(${
      JSON.stringify(path)
    }); console.log("ok"); } ` +
      `catch (e) { console.log(e.name + ": " + e.message); }\n`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", ...flags, `${dir}/read.js`],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

// agent/build.ts explains the choice of --allow-all; this keeps it honest on
// the Deno in use. When a later Deno lets the narrow set read /proc, the
// first assertion fails: go back to the narrow set.
Deno.test("only --allow-all reads /proc/stat on this Deno, so the agent ships with it", async () => {
  assert.match(
    await readWith(NARROW_PERMISSIONS),
    /^NotCapable: Requires all access to "\/proc\/stat"/,
  );
  assert.match(
    await readWith(["--allow-read=/proc"]),
    /^NotCapable: Requires all access/,
  );
  assert.equal(await readWith(AGENT_PERMISSIONS), "ok");
});

// Guests' pressure comes from /sys/fs/cgroup (guest_pressure.ts), which
// Deno counts as special too. The first of these this machine has stands
// in for a guest's cgroup file (a PVE node has cgroup v2 at the root).
const SYS_FILES = [
  "/sys/fs/cgroup/cpu.pressure",
  "/sys/fs/cgroup/unified/cpu.pressure",
  "/sys/fs/cgroup/cgroup.controllers",
  "/sys/class/net/lo/mtu",
];

Deno.test("only --allow-all reads a /sys cgroup file too, where guests' pressure lives", async () => {
  const path = SYS_FILES.find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  assert.ok(path, `none of ${SYS_FILES.join(", ")} on this machine`);
  assert.match(
    await readWith(NARROW_PERMISSIONS, path),
    /^NotCapable: Requires all access/,
  );
  assert.equal(await readWith(AGENT_PERMISSIONS, path), "ok");
});

Deno.test("the bundle under the shipped flags reports this machine's real /proc", async () => {
  await withBundle(async (run) => {
    const server = startTestServer({ validate: true });
    const config = `${run.cwd}/agent.toml`;
    await Deno.writeTextFile(
      config,
      [
        `server_url = "${server.url}"`,
        `token = "${TEST_TOKEN}"`,
        `host_id = "pve-01"`,
        `node = "pve1"`,
        `outbox_path = "${run.cwd}/outbox.json"`,
        "[intervals]",
        "fast_seconds = 1",
        "",
      ].join("\n"),
    );
    const agent = spawnAgent(["--config", config], run);
    try {
      const fast = () => server.stored.filter((m) => m.interval === "fast");
      await until(() => fast().length >= 2, "two fast samples", 30_000);
      const [first, second] = fast().map((m) =>
        m.data as {
          host: {
            cpu_percent: number | null;
            load1: number | null;
            mem_total_bytes: number | null;
            mem_available_bytes: number | null;
            uptime_seconds: number | null;
            disks: { device: string }[];
            net: { iface: string }[];
            root_fs: { size_bytes: number } | null;
            errors: { tag: string }[];
          };
        }
      );
      for (const { host } of [first, second]) {
        assert.equal(typeof host.load1, "number");
        assert.ok((host.mem_total_bytes ?? 0) > 0);
        assert.equal(typeof host.mem_available_bytes, "number");
        assert.ok((host.uptime_seconds ?? 0) > 0);
        assert.ok(host.disks.length >= 1, "at least one disk");
        assert.ok(host.net.length >= 1, "at least one NIC");
        assert.ok((host.root_fs?.size_bytes ?? 0) > 0, "statfs of /");
        assert.deepEqual(host.errors, []);
      }
      assert.equal(typeof second.host.cpu_percent, "number");
      assert.doesNotMatch(agent.stderr(), /cannot read/);
    } finally {
      agent.signal("SIGTERM");
      await agent.finished;
      await server.close();
    }
  });
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
  await using tmp = await tempDir("proxmon-compile-test-");
  const dir = tmp.path;
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
