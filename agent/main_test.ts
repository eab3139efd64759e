/**
 * The agent as a real process: command line, config errors, and outbox
 * persistence across SIGTERM and a restart against a live local server.
 */
import assert from "node:assert/strict";
import { FastPayload, MediumPayload, SlowPayload } from "@proxmon/shared";
import * as v from "valibot";
import { REPO_ROOT, spawnAgent } from "./testing/agent_process.ts";
import { createCollectors } from "./collectors/mod.ts";
import { NODE, pveNodeAnswers } from "./testing/test_node.ts";
import { fakeRunner } from "./testing/fake_runner.ts";
import { installFakeTools } from "./testing/fake_tools.ts";
import {
  startTestServer,
  TEST_HOST,
  TEST_TOKEN,
} from "./testing/test_server.ts";
import { decodeOutbox } from "./outbox_journal.ts";
import { AGENT_VERSION } from "./version.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

const PROC_DIR = `${REPO_ROOT}/fixtures/proc/pve_t0`;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await using tmp = await tempDir("proxmon-agent-test-");
  const dir = tmp.path;
  await fn(dir);
}

/** An empty PATH directory: no PVE tool exists, each is an `enoent` error. */
async function emptyBin(dir: string): Promise<string> {
  await Deno.mkdir(`${dir}/bin`);
  return `${dir}/bin`;
}

Deno.test("proxmon-agent --version and --help print and exit 0", async () => {
  await withTempDir(async (dir) => {
    const path = await emptyBin(dir);
    const version = await spawnAgent(["--version"], { path }).finished;
    assert.deepEqual(version, {
      code: 0,
      stdout: `proxmon-agent ${AGENT_VERSION}\n`,
      stderr: "",
    });
    const help = await spawnAgent(["--help"], { path }).finished;
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: proxmon-agent/);
    assert.match(help.stdout, /--once/);
  });
});

Deno.test("proxmon-agent fails with one clear line and a non-zero code", async (t) => {
  await withTempDir(async (dir) => {
    const path = await emptyBin(dir);
    const bad = `${dir}/agent.toml`;
    await Deno.writeTextFile(
      bad,
      `server_url = "http://x"\nhost_id = "pve-01"\n`,
    );
    const cases: [string, string[], number, string][] = [
      [
        "an unknown flag",
        ["--verbose"],
        2,
        "error: Unknown option '--verbose'",
      ],
      [
        "an empty --config",
        ["--once", "--node", "pve1", "--config", ""],
        2,
        "error: --config needs a value (see --help)\n",
      ],
      [
        "a config with a bad URL and no token",
        ["--config", bad],
        1,
        `error: ${bad}: server_url: must be a ws:// or wss:// URL, e.g. ` +
        `wss://monitor.example:4000; ${bad}: token: missing\n`,
      ],
      [
        "a missing config file",
        ["--config", `${dir}/nope.toml`],
        1,
        `error: ${dir}/nope.toml: not found; write it from agent.toml.example`,
      ],
      [
        "--once with neither a config file nor --node",
        ["--once", "--config", `${dir}/nope.toml`],
        1,
        `error: ${dir}/nope.toml: not found; pass --config PATH, or --node NAME`,
      ],
    ];
    for (const [name, args, code, message] of cases) {
      await t.step(name, async () => {
        const result = await spawnAgent(args, { path }).finished;
        assert.equal(result.code, code, result.stderr);
        assert.equal(result.stdout, "");
        assert.ok(
          result.stderr.startsWith(message),
          `stderr was: ${result.stderr}`,
        );
        assert.equal(result.stderr.trim().split("\n").length, 1, "one line");
      });
    }
  });
});

Deno.test("proxmon-agent --once works without a config file when given --node", async () => {
  await withTempDir(async (dir) => {
    const path = await emptyBin(dir);
    const once = await spawnAgent(
      ["--once", "--node", "pve1", "--proc-dir", PROC_DIR],
      { path, cwd: dir },
    ).finished;
    // No PVE or ZFS tool answered: exit 3, with the summary as last line.
    assert.equal(once.code, 3, once.stderr);
    assert.match(
      once.stderr.trim().split("\n").at(-1) ?? "",
      /^error: \d+ commands, \d+ failed: .*; no PVE or ZFS command produced data/,
    );
    const json = JSON.parse(once.stdout);
    assert.deepEqual(Object.keys(json), ["fast", "medium", "slow"]);
    v.parse(FastPayload, json.fast);
    v.parse(MediumPayload, json.medium);
    v.parse(SlowPayload, json.slow);
    // The proc dir was read; the missing PVE tools are errors, not crashes.
    assert.equal(typeof json.fast.host.mem_total_bytes, "number");
    assert.ok(json.fast.storage.errors.length > 0);
    assert.equal(json.slow.system_info.agent_version, AGENT_VERSION);
  });
});

Deno.test("proxmon-agent --once runs the PVE tools found on PATH and prints what the collectors make of them", async () => {
  await withTempDir(async (dir) => {
    const path = await emptyBin(dir);
    await installFakeTools(path, pveNodeAnswers());
    const once = await spawnAgent(
      ["--once", "--node", NODE, "--proc-dir", PROC_DIR],
      { path },
    ).finished;
    assert.equal(once.code, 0, once.stderr);
    // What the fixture node refuses: VM 102's guest agent (interfaces and
    // fsinfo) and CT 201's interfaces endpoint (an older PVE).
    assert.match(
      once.stderr,
      /^info: \d+ commands, 3 failed: pvesh \(exit 255\) ×3\n$/m,
    );
    const printed = JSON.parse(once.stdout);

    const fast = v.parse(FastPayload, printed.fast);
    const medium = v.parse(MediumPayload, printed.medium);
    const slow = v.parse(SlowPayload, printed.slow);
    const errors = [
      fast.host.errors,
      fast.zfs_pools.errors,
      fast.storage.errors,
      fast.vms_runtime.errors,
      medium.zfs_datasets.errors,
      medium.vms_detail.errors,
      medium.backups?.errors ?? ["no backups"],
      medium.replication?.errors ?? ["no replication"],
      medium.temperatures?.errors ?? ["no temperatures"],
      slow.system_info.errors,
      slow.smart?.errors ?? ["no smart"],
    ].flat();
    assert.deepEqual(errors, [], "every fake tool answered");
    assert.deepEqual(fast.zfs_pools.pools.map((p) => p.name), [
      "rpool",
      "tank",
    ]);
    // statfs of this machine's real root filesystem, no df process.
    assert.ok((fast.host.root_fs?.size_bytes ?? 0) > 0);
    assert.equal(fast.vms_runtime.vms.length, 8);
    assert.equal(slow.system_info.pve_version, "9.1.6");

    // Through real processes, the same values as the collectors produce from
    // the same answers in-process (at the time the agent stamped its reads).
    const nowMs = (medium.backups?.tasks_read_at_unix ?? 0) * 1000;
    const collectors = createCollectors({
      runner: fakeRunner(pveNodeAnswers()),
      procDir: PROC_DIR,
      node: NODE,
      agentVersion: AGENT_VERSION,
      commandTimeoutMs: 30_000,
      concurrency: 4,
    });
    const inProcess = {
      fast: await collectors.fast(0),
      medium: await collectors.medium(nowMs),
      slow: await collectors.slow(nowMs),
    };
    // The root filesystem's usage may move between the two readings.
    inProcess.fast.host.root_fs = printed.fast.host.root_fs;
    assert.deepEqual(printed, inProcess);
  });
});

Deno.test("samples outlive SIGTERM: saved to the outbox file, sent after a restart", async () => {
  await withTempDir(async (dir) => {
    const path = await emptyBin(dir);
    const outboxPath = `${dir}/state/outbox.json`;
    const config = (serverUrl: string) => `
server_url = "${serverUrl}"
token = "${TEST_TOKEN}"
host_id = "${TEST_HOST}"
node = "pve1"
proc_dir = "${PROC_DIR}"
outbox_path = "${outboxPath}"
command_timeout_seconds = 5
`;
    // 1. The server is away: nothing listens on this port.
    const away = startTestServer();
    await away.close();
    await Deno.writeTextFile(`${dir}/away.toml`, config(away.url));
    const first = spawnAgent(["--config", `${dir}/away.toml`], { path });
    await first.waitForStderr(/running: host_id pve-01/);
    first.signal("SIGTERM");
    const stopped = await first.finished;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, /info: SIGTERM: stopping/);

    const saved = decodeOutbox(await Deno.readTextFile(outboxPath));
    const keys = saved.samples.map((s) => `${s.interval}@${s.collected_at}`);
    assert.ok(keys.length >= 3, `saved: ${keys}`);
    for (const interval of ["fast", "medium", "slow"]) {
      assert.ok(
        saved.samples.some((s) => s.interval === interval),
        `a ${interval} sample was saved`,
      );
    }
    assert.match(
      stopped.stderr,
      new RegExp(`info: saved ${keys.length} unacked samples to ${outboxPath}`),
    );

    // 2. Restart against a live server: the saved samples go first, in order.
    const server = startTestServer({ validate: true });
    try {
      await Deno.writeTextFile(`${dir}/live.toml`, config(server.url));
      const second = spawnAgent(["--config", `${dir}/live.toml`], { path });
      await second.waitForStderr(
        new RegExp(`${keys.length} samples waiting from ${outboxPath}`),
      );
      await second.waitForStderr(/connected to ws:\/\/127\.0\.0\.1/);
      const deadline = Date.now() + 30_000;
      while (server.stored.length < keys.length && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      second.signal("SIGTERM");
      const done = await second.finished;
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual(server.nacks, [], "every payload passes the schemas");
      assert.deepEqual(
        server.stored.slice(0, keys.length).map((m) =>
          `${m.interval}@${m.collected_at}`
        ),
        keys,
      );
      const after = decodeOutbox(await Deno.readTextFile(outboxPath));
      const left = new Set(
        after.samples.map((s) => `${s.interval}@${s.collected_at}`),
      );
      assert.ok(keys.every((k) => !left.has(k)), "acked ones are gone");
    } finally {
      await server.close();
    }
  });
});
