/**
 * End to end, as separate real processes: the server on a free port with a
 * temporary SQLite file, a host registered through the CLI, and the real
 * agent on a simulated PVE node (fake pvesh/zpool/zfs/pveversion/apt first
 * on PATH, fake /proc). Checks what the API then shows against the node's
 * profile, that samples collected while the server is down arrive once it is
 * back (each once), and that stopping the agent turns the host offline.
 * Runs on a ZFS 2.3 (JSON) node and on a ZFS 2.2 (text) node.
 */
import assert from "node:assert/strict";
import { type Client, createClient } from "@libsql/client";
import type { NodeModel, VdevModel } from "./fake_node/node_model.ts";
import { freePort } from "@proxmon/shared/free_port";
import { type Proc, waitFor } from "./smoke/process.ts";
import {
  fetchHost,
  type HostView,
  PROFILES,
  type ServerHandle,
  type SimulatedNode,
  startRegisteredAgent,
  startServer,
  startSimulatedNode,
} from "./smoke/stack.ts";

type Json = Record<string, unknown>;
type Row = Record<string, unknown>;

interface Run {
  dir: string;
  port: number;
  databaseUrl: string;
  node: SimulatedNode;
  server?: ServerHandle;
  agent?: Proc;
  db?: Client;
}

const leaves = (v: VdevModel): VdevModel[] =>
  v.children.length === 0 ? [v] : v.children.flatMap(leaves);

const rows = (
  payload: Json,
  key: string,
  list: string,
) => ((payload[key] as Json)[list] as Row[]);

/** The fast payload must describe the profile's pools, storages and guests. */
function checkFast(payload: Json, model: NodeModel) {
  const pools = rows(payload, "zfs_pools", "pools");
  assert.deepEqual((payload.zfs_pools as Json).errors, [], "zfs_pools errors");
  assert.deepEqual(
    pools.map((p) => p.name).sort(),
    model.pools.map((p) => p.name).sort(),
  );
  for (const pool of model.pools) {
    const got = pools.find((p) => p.name === pool.name)!;
    const disks = leaves(pool.root);
    assert.equal(got.health, pool.state, `${pool.name} health`);
    assert.equal(got.vdev_count, disks.length, `${pool.name} vdev_count`);
    assert.equal(
      got.degraded_vdev_count,
      disks.filter((d) => d.state !== "ONLINE").length,
      `${pool.name} degraded_vdev_count`,
    );
    assert.equal(got.size_bytes, pool.sizeBytes, `${pool.name} size_bytes`);
    if (pool.scrub === "scanning") {
      assert.equal((got.scan as Json)?.state, "SCANNING");
    }
    if (pool.scrub === "finished") {
      assert.equal(typeof got.last_scrub_end, "number");
    }
  }

  const storages = rows(payload, "storage", "storages");
  // /cluster/resources (the agent's one pvesh call) lists only the storages
  // enabled on this node.
  const enabled = model.storages.filter((s) => s.enabled);
  assert.deepEqual(
    storages.map((s) => s.name).sort(),
    enabled.map((s) => s.name).sort(),
  );
  for (const def of enabled) {
    const got = storages.find((s) => s.name === def.name)!;
    assert.equal(got.type, def.type);
    assert.equal(got.active, def.active && def.enabled, `${def.name} active`);
    if (!def.active) {
      assert.equal(got.used_fraction, null, `${def.name} used_fraction`);
    }
  }

  const vms = rows(payload, "vms_runtime", "vms");
  assert.deepEqual(
    (payload.vms_runtime as Json).errors,
    [],
    "vms_runtime errors",
  );
  assert.deepEqual(
    vms.map((v) => v.vmid).sort(),
    model.guests.map((g) => g.vmid).sort(),
  );
  for (const g of model.guests) {
    const got = vms.find((v) => v.vmid === g.vmid)!;
    assert.deepEqual([got.type, got.name, got.status, got.template], [
      g.type,
      g.name,
      g.status,
      g.template,
    ]);
  }

  const host = payload.host as Json;
  assert.equal(host.mem_total_bytes, model.host.memTotalBytes);
  assert.ok(
    (host.cpu_percent as number) > 0,
    `cpu_percent ${host.cpu_percent}`,
  );
  const net = host.net as Row[];
  assert.ok(
    net.some((n) => n.iface === "vmbr0" && (n.rx_bytes_per_s as number) > 0),
    "vmbr0 receives",
  );
  const disks = host.disks as Row[];
  const disk = model.host.disks[0];
  assert.ok(
    disks.some((d) => d.device === disk && (d.read_bytes_per_s as number) > 0),
    `${disk} reads`,
  );
}

const bare = (cidr: string) => cidr.split("/")[0];

/** The medium payload: datasets of the guests' disks, guests' addresses. */
function checkMedium(payload: Json, model: NodeModel) {
  const datasets = rows(payload, "zfs_datasets", "datasets");
  assert.deepEqual(
    (payload.zfs_datasets as Json).errors,
    [],
    "zfs_datasets errors",
  );
  for (const g of model.guests) {
    if (!g.disk) continue;
    const got = datasets.find((d) => d.name === g.disk!.dataset);
    assert.ok(got, `dataset ${g.disk.dataset}`);
    assert.equal(got.type, g.type === "qemu" ? "volume" : "filesystem");
    assert.ok(
      (got.snapshot_count as number) >= 1,
      `${g.disk.dataset} has snapshots`,
    );
  }

  const vms = rows(payload, "vms_detail", "vms");
  for (const g of model.guests) {
    if (g.status !== "running" || g.template) continue;
    if (g.type === "qemu" && g.agent !== "running") continue;
    const got = vms.find((v) => v.vmid === g.vmid);
    assert.ok(got, `vms_detail for ${g.vmid}`);
    const ips = got.ips as string[];
    const expected = g.nics.flatMap((nic) =>
      g.type === "qemu"
        ? [nic.ipv4, nic.ipv6]
        // a CT's interfaces show its IPv4; static IPv6 lives in the config
        : [nic.ipv4, nic.ipv6Config?.includes("/") ? nic.ipv6 : undefined]
    ).filter((ip): ip is string => ip !== undefined).map(bare);
    for (const ip of expected) {
      assert.ok(ips.includes(ip), `${g.vmid} ${g.name}: ${ip} in ${ips}`);
    }
    assert.ok(
      !ips.some((ip) =>
        ip.startsWith("fe80:") || ip === "127.0.0.1" || ip === "::1"
      ),
      `${g.vmid}: ${ips}`,
    );
  }
}

/** The slow payload: versions and the number of pending updates. */
function checkSlow(payload: Json, model: NodeModel) {
  const info = payload.system_info as Json;
  assert.deepEqual(info.errors, [], "system_info errors");
  assert.ok(
    String(info.pve_version).includes(model.pveVersion),
    `pve_version ${info.pve_version}`,
  );
  assert.ok(
    String(info.kernel).includes(model.kernel),
    `kernel ${info.kernel}`,
  );
  assert.ok(
    String(info.zfs_version).includes(model.zfsVersion),
    `zfs_version ${info.zfs_version}`,
  );
  assert.equal(info.pending_updates, model.updates.length);
}

async function samplesOf(
  db: Client,
  host: string,
): Promise<{ interval: string; at: number }[]> {
  const res = await db.execute({
    sql:
      "SELECT m.interval_type AS interval, m.collected_at AS at FROM series_head m " +
      "JOIN hosts h ON h.id = m.host_id WHERE h.name = ? ORDER BY m.collected_at",
    args: [host],
  });
  return res.rows.map((r) => ({
    interval: String(r.interval),
    at: Number(r.at),
  }));
}

/**
 * Ticks of `interval` the agent skipped because its previous cycle still ran (it
 * logs each with a running count): on a loaded machine a cycle can take
 * longer than the test's 1 s interval, and a skipped tick is a gap in the
 * samples that is not a lost sample.
 */
function ticksSkipped(agent: Proc, interval: "fast" | "medium"): number {
  const pattern = new RegExp(
    `${interval} cycle still running after [\\d.]+ s; skipped this tick \\((\\d+) skipped since start\\)`,
    "g",
  );
  const counts = [...(agent.stdout() + agent.stderr()).matchAll(pattern)]
    .map((m) => Number(m[1]));
  return Math.max(0, ...counts);
}

/**
 * How long the end-to-end waits may take. They wait on conditions; this
 * only ends a run that would hang, and is far above what an idle machine
 * needs (a loaded one, at load 10+, took more than the 10-25 s they were).
 */
const WAIT_MS = 60_000;

/** Runs the whole flow on one node profile; `outageMs` is how long the server stays down. */
async function smoke(profile: string, hostName: string, outageMs: number) {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-smoke-" });
  const run: Run = {
    dir,
    port: freePort(),
    databaseUrl: `file:${dir}/proxmon.db`,
    node: await startSimulatedNode(`${PROFILES}/${profile}`, dir),
  };
  const serverOpts = { port: run.port, databaseUrl: run.databaseUrl };
  const model = run.node.model;
  try {
    run.server = await startServer(serverOpts);
    run.agent = await startRegisteredAgent(serverOpts, {
      name: hostName,
      node: run.node,
      dir,
      intervals: { fast: 1, medium: 2, slow: 3 },
    });

    const url = run.server.url;
    const ready = await waitFor(
      "online with fast, medium and slow samples",
      async () => {
        if (run.agent!.exited()) throw new Error("the agent exited");
        const host = await fetchHost(url, hostName);
        const { fast, medium, slow } = host?.samples ?? {};
        // rates need two readings, so wait for a fast sample with a CPU figure
        const cpu = (fast?.payload.host as Json | undefined)?.cpu_percent;
        return host?.status === "online" && medium && slow &&
            typeof cpu === "number"
          ? host
          : undefined;
      },
      { timeoutMs: WAIT_MS },
    );
    checkFast(ready.samples.fast!.payload, model);
    checkMedium(ready.samples.medium!.payload, model);
    checkSlow(ready.samples.slow!.payload, model);
    assert.ok(ready.agent_version, "agent_version");

    run.db = createClient({ url: run.databaseUrl });
    {
      const killedAt = Date.now();
      await run.server.proc.stop({ sig: "SIGKILL" });
      await new Promise((r) => setTimeout(r, outageMs));
      const restartedAt = Date.now();
      run.server = await startServer(serverOpts);
      const inOutage = (s: { at: number }) =>
        s.at > killedAt && s.at < restartedAt;
      // every fast sample from a second before the kill to a second after
      // the restart, one per second: a gap means a sample was lost, unless
      // the agent skipped that tick (it says so)
      let seen = "nothing yet";
      let skipped = 0;
      const samples = await waitFor("the samples from the outage", async () => {
        const all = await samplesOf(run.db!, hostName);
        const fast = all.filter((s) => s.interval === "fast").map((s) => s.at);
        const window = fast.filter((at) =>
          at > killedAt - 1000 && at < restartedAt + 1000
        );
        const gaps = window.slice(1).map((at, i) => at - window[i]);
        skipped = ticksSkipped(run.agent!, "fast");
        seen = `${window.length} fast samples around the outage, gaps ${
          gaps.join(",")
        } ms, ${skipped} fast ticks skipped by the agent`;
        const live = fast.some((at) => at > restartedAt + 1000);
        return live && Math.max(...gaps) < 2500 + 1000 * skipped
          ? all
          : undefined;
      }, { timeoutMs: WAIT_MS }).catch((err: Error) => {
        throw new Error(`${err.message}: ${seen}`);
      });
      const missed = samples.filter(inOutage);
      console.log(
        `  server down ${
          restartedAt - killedAt
        } ms: ${missed.length} samples collected meanwhile arrived later (${seen})`,
      );
      assert.ok(
        missed.filter((s) => s.interval === "fast").length >=
          Math.max(1, outageMs / 1000 - 1 - skipped),
        seen,
      );
      // one medium tick (2 s) falls in the outage, unless the agent
      // skipped it
      assert.ok(
        samples.filter((s) => s.interval === "medium" && inOutage(s)).length >=
          (ticksSkipped(run.agent, "medium") > 0 ? 0 : 1),
        `medium samples in the outage; ${run.agent.tail(20)}`,
      );
      for (const interval of ["fast", "medium", "slow"]) {
        const at = samples.filter((s) => s.interval === interval).map((s) =>
          s.at
        );
        assert.equal(
          new Set(at).size,
          at.length,
          `${interval} samples stored once each`,
        );
      }
      const back = await waitFor("online again", async () => {
        const host = await fetchHost(run.server!.url, hostName);
        return host?.status === "online" ? host : undefined;
      }, { timeoutMs: WAIT_MS });
      assert.equal(back.status, "online");
    }

    const status = await run.agent.stop();
    assert.equal(status.code, 0, `agent exit code\n${run.agent.tail()}`);
    const offline: HostView = await waitFor(
      "offline after the agent stopped",
      async () => {
        const host = await fetchHost(run.server!.url, hostName);
        return host?.status === "offline" ? host : undefined;
      },
      { timeoutMs: WAIT_MS },
    );
    assert.equal(offline.status, "offline");
  } catch (err) {
    const logs = [run.agent, run.server?.proc].filter((p) => p !== undefined)
      .map((p) => `--- ${p!.name} ---\n${p!.tail(40)}`).join("\n");
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  } finally {
    run.db?.close();
    await run.agent?.stop({ graceMs: 3000 });
    await run.server?.proc.stop({ graceMs: 3000 });
    await run.node.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("smoke: real agent on a ZFS 2.3 node ⇄ real server, through an outage", async () => {
  await smoke("degraded_zfs23.toml", "lab", 5000);
});

Deno.test("smoke: real agent on a ZFS 2.2 node (text output) ⇄ real server, through a shorter outage", async () => {
  await smoke("zfs22.toml", "old", 3000);
});
