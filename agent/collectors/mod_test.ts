import assert from "node:assert/strict";
import * as v from "valibot";
import { FastPayload, MediumPayload, SlowPayload } from "@proxmon/shared";
import { type FakeAnswer, fakeRunner } from "../testing/fake_runner.ts";
import type { CommandRunner } from "../runner.ts";
import { createCollectors, lineOf, ZFS_LIST_JSON } from "./mod.ts";
import { fixturePath, readFixture } from "../testing/fixtures.ts";
import { NODE, pveNodeAnswers, zfs22Answers } from "../testing/test_node.ts";

const deps = (runner: CommandRunner, concurrency = 8) => ({
  runner,
  procDir: fixturePath("proc/pve_t0"),
  node: NODE,
  agentVersion: "0.1.0",
  commandTimeoutMs: 1234,
  concurrency,
  // A 100.9 GB root with 7.95 GB used, in 4 KiB blocks.
  statfs: () =>
    Promise.resolve({ blocks: 24624445, bfree: 22682480, bsize: 4096 }),
  // No pmxcfs here: configs come through pvesh.
  readConfigFile: () => Promise.resolve(undefined),
});

Deno.test("createCollectors() yields fast, medium and slow payloads that match the wire schemas", async () => {
  const runner = fakeRunner(pveNodeAnswers());
  const collectors = createCollectors(deps(runner));
  const fast = v.parse(FastPayload, await collectors.fast(1_000_000));
  const medium = v.parse(MediumPayload, await collectors.medium(1_000_000));
  const slow = v.parse(SlowPayload, await collectors.slow(1_000_000));

  for (
    const value of [
      fast.host,
      fast.zfs_pools,
      fast.storage,
      fast.vms_runtime,
      medium.zfs_datasets,
    ]
  ) {
    assert.deepEqual(value.errors, []);
  }
  assert.deepEqual(medium.vms_detail.errors, []);
  assert.deepEqual(slow.system_info.errors, []);

  assert.equal(fast.host.mem_total_bytes, 65536000 * 1024);
  assert.deepEqual(fast.host.root_fs, {
    size_bytes: 100861726720,
    used_bytes: 7954288640,
  });
  assert.deepEqual(
    fast.zfs_pools.pools.map((p) => [p.name, p.degraded_vdev_count]),
    [
      ["rpool", 0],
      ["tank", 1],
    ],
  );
  // /cluster/resources leaves out the storage disabled on this node
  assert.equal(fast.storage.storages.length, 3);
  assert.equal(fast.vms_runtime.vms.length, 8);
  assert.equal(medium.zfs_datasets.datasets.length, 8);
  assert.equal(medium.vms_detail.vms.length, 8);
  assert.equal(slow.system_info.pve_version, "9.1.6");
  assert.equal(slow.system_info.agent_version, "0.1.0");
});

Deno.test("createCollectors() runs only the documented command lines", async () => {
  const runner = fakeRunner(pveNodeAnswers());
  const collectors = createCollectors(deps(runner));
  await collectors.fast(0);
  await collectors.medium(0);
  await collectors.slow(0);
  const unknown = runner.calls.filter((c) => !(c in pveNodeAnswers()));
  assert.deepEqual(unknown, []);
});

/** A runner that answers from `answers` after a delay, counting commands in flight. */
function slowRunner(answers: Record<string, FakeAnswer>, delayMs: number) {
  const inner = fakeRunner(answers);
  const seen = { inFlight: 0, max: 0, timeouts: new Set<number | undefined>() };
  const runner: CommandRunner = {
    async run(cmd, args, opts) {
      seen.inFlight++;
      seen.max = Math.max(seen.max, seen.inFlight);
      seen.timeouts.add(opts?.timeoutMs);
      try {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return await inner.run(cmd, args);
      } finally {
        seen.inFlight--;
      }
    },
  };
  return { runner, seen, calls: inner.calls };
}

Deno.test("createCollectors() keeps vms_detail within the concurrency bound and passes the command timeout", async () => {
  const { runner, seen, calls } = slowRunner(pveNodeAnswers(), 3);
  const collectors = createCollectors(deps(runner, 3));
  const medium = await collectors.medium(0);
  assert.equal(medium.vms_detail.vms.length, 8);
  // no fast cycle before it: cluster resources, then 8 configs, 2 agent
  // interfaces + 2 agent fsinfo, 1 lxc interfaces (201; 200's addresses are
  // all static) + zfs list, plus backups (tasks, jobs, uncovered, storages,
  // one listing), replication, sensors
  assert.equal(calls.length, 15 + 7);
  assert.equal(seen.max, 3); // bounded, yet not one at a time
  // the command timeout, and 5 s for the guest-agent calls
  assert.deepEqual([...seen.timeouts].sort(), [1234, 5000]);
});

Deno.test("createCollectors() bounds a fast cycle's commands too", async () => {
  const { runner, seen } = slowRunner(pveNodeAnswers(), 3);
  await createCollectors(deps(runner, 2)).fast(0);
  assert.equal(seen.max, 2);
});

Deno.test("createCollectors() keeps the ZFS text form for the whole run once 2.2 refuses -j", async () => {
  const answers = {
    ...pveNodeAnswers(),
    ...zfs22Answers("zfs/zfs_list_pve.txt"),
  };
  const runner = fakeRunner(answers);
  const collectors = createCollectors(deps(runner));
  const fast = await collectors.fast(0);
  assert.deepEqual(fast.zfs_pools.errors, []);
  assert.equal(fast.zfs_pools.pools[1].degraded_vdev_count, 1);
  const medium = await collectors.medium(0);
  assert.equal(medium.zfs_datasets.datasets.length, 8);
  assert.ok(!runner.calls.includes(lineOf(ZFS_LIST_JSON)));
});

Deno.test("createCollectors() returns valid, partial payloads when commands fail, time out, or print garbage", async () => {
  const answers: Record<string, FakeAnswer> = {};
  for (const [line, answer] of Object.entries(pveNodeAnswers())) {
    if (line.startsWith("zpool")) {
      answers[line] = {
        error: { kind: "timeout", timeoutMs: 1234, message: "killed" },
      };
    } else if (line.includes("/cluster/resources")) {
      const entries = JSON.parse(answer as string) as { type: string }[];
      answers[line] = JSON.stringify([
        {
          type: "storage",
          node: NODE,
          storage: "local",
          status: "available",
          maxdisk: "many",
          disk: 1,
        },
        { type: "qemu", node: NODE, vmid: "half" },
        ...entries.filter((e) => e.type === "lxc"),
      ]);
    } else if (line.startsWith("apt")) continue; // apt missing: enoent
    else answers[line] = answer;
  }
  const collectors = createCollectors(deps(fakeRunner(answers)));
  const fast = v.parse(FastPayload, await collectors.fast(0));
  const medium = v.parse(MediumPayload, await collectors.medium(0));
  const slow = v.parse(SlowPayload, await collectors.slow(0));

  assert.deepEqual(fast.zfs_pools.pools, []);
  assert.match(fast.zfs_pools.errors[0].message, /timed out after 1234 ms/);
  assert.deepEqual(fast.storage.storages.map((s) => [s.name, s.total_bytes]), [[
    "local",
    null,
  ]]);
  assert.ok(fast.storage.errors.length > 0);
  assert.deepEqual(fast.vms_runtime.vms.map((g) => g.vmid), [200, 201, 202]); // qemu list broken
  assert.match(fast.vms_runtime.errors[0].message, /without a usable vmid/);
  assert.equal(fast.host.mem_total_bytes, 65536000 * 1024); // untouched
  assert.equal(medium.vms_detail.vms.length, 3);
  assert.equal(medium.zfs_datasets.datasets.length, 8);
  assert.equal(slow.system_info.pending_updates, null);
  assert.equal(slow.system_info.pve_version, "9.1.6");
});

Deno.test("createCollectors() survives a runner that throws instead of returning an error", async () => {
  const throwing: CommandRunner = {
    run: () => Promise.reject(new Error("spawn exploded")),
  };
  const collectors = createCollectors(deps(throwing));
  const fast = v.parse(FastPayload, await collectors.fast(0));
  const slow = v.parse(SlowPayload, await collectors.slow(0));
  assert.deepEqual(fast.zfs_pools.errors, [{
    tag: "zfs_pools_internal",
    message: "spawn exploded",
  }]);
  assert.equal(fast.storage.errors[0].tag, "pve_internal");
  // the host reads /proc and statfs itself; it needs no runner at all
  assert.deepEqual(fast.host.errors, []);
  assert.ok(fast.host.root_fs !== null);
  assert.equal(fast.host.load1, 1.5);
  assert.equal(slow.system_info.errors[0].tag, "system_info_internal");
  assert.equal(slow.system_info.agent_version, "0.1.0");
});

Deno.test("createCollectors() keeps guest configs between medium cycles for configTtlMs", async (t) => {
  const configCalls = (calls: string[]) =>
    calls.filter((c) => /\/config --output-format json$/.test(c)).length;
  for (
    const [ttl, expected] of [
      [undefined, 0], // the default TTL is minutes
      [30_000, 8], // the second cycle comes after this TTL
      [0, 8], // no caching
    ] as const
  ) {
    await t.step(`configTtlMs ${ttl}`, async () => {
      const runner = fakeRunner(pveNodeAnswers());
      const collectors = createCollectors({
        ...deps(runner),
        configTtlMs: ttl,
      });
      const first = await collectors.medium(1_000_000);
      assert.equal(configCalls(runner.calls), 8);
      const from = runner.calls.length;
      const second = await collectors.medium(1_000_000 + 60_000);
      assert.equal(configCalls(runner.calls.slice(from)), expected);
      assert.deepEqual(second, first);
    });
  }
});

Deno.test("createCollectors() runs smartctl on the slow cycle only, and fills backups, replication, temperatures and smart", async () => {
  const runner = fakeRunner(pveNodeAnswers());
  const collectors = createCollectors(deps(runner));
  await collectors.fast(0);
  const medium = v.parse(MediumPayload, await collectors.medium(0));
  await collectors.fast(10_000);
  await collectors.medium(60_000);
  assert.deepEqual(runner.calls.filter((c) => c.startsWith("smartctl")), []);
  const slow = v.parse(SlowPayload, await collectors.slow(60_000));
  assert.deepEqual(runner.calls.filter((c) => c.startsWith("smartctl")), [
    "smartctl --scan-open -j",
    "smartctl -a -j -n standby -d nvme /dev/nvme0",
  ]);
  assert.deepEqual(slow.smart?.errors, []);
  assert.equal(slow.smart?.disks[0].nvme?.unsafe_shutdowns, 43);
  assert.equal(medium.temperatures?.cpu_package_c, 37);
  assert.deepEqual(medium.backups?.errors, []);
  assert.equal(medium.backups?.jobs.length, 2);
  assert.deepEqual(medium.replication?.errors, []);
  assert.equal(medium.replication?.jobs.length, 3);
});

Deno.test("createCollectors() lists the node once per --once run and reads configs from pmxcfs first", async () => {
  const runner = fakeRunner(pveNodeAnswers());
  const real = readFixture("pmxcfs/qemu-server/101_with_snapshot.conf");
  const read: string[] = [];
  const collectors = createCollectors({
    ...deps(runner),
    pveDir: "/etc/pve",
    readConfigFile: (path) => {
      read.push(path);
      return Promise.resolve(
        path === `/etc/pve/nodes/${NODE}/qemu-server/101.conf`
          ? real
          : undefined,
      );
    },
  });
  // as agent/main.ts --once does: the three cycles at once
  const [, medium] = await Promise.all([
    collectors.fast(0),
    collectors.medium(0),
    collectors.slow(0),
  ]);
  const lists = runner.calls.filter((c) =>
    // the guest and storage lists (the backups collector's
    // `storage --content backup` is another read, on its own 15-min clock)
    /^pvesh get (\/cluster\/resources|\/nodes\/[^/]+\/(qemu|lxc|storage)) --output-format/
      .test(c)
  );
  assert.deepEqual(lists, [
    "pvesh get /cluster/resources --output-format json",
  ]);
  assert.equal(read.length, 8, "every guest's file is tried");
  // 101's config came from its file; the others through pvesh
  assert.ok(!runner.calls.some((c) => c.includes("/qemu/101/config")));
  assert.ok(runner.calls.some((c) => c.includes("/qemu/100/config")));
  const vm101 = medium.vms_detail.vms.find((g) => g.vmid === 101)!;
  assert.equal(vm101.config.name, "win");
  assert.equal(vm101.config.cores, "2");
  assert.match(String(vm101.config.digest), /^[0-9a-f]{40}$/);
});

Deno.test("createCollectors() without smartctl and lm-sensors: one error entry per sample, one log line per cause", async () => {
  const answers = Object.fromEntries(
    Object.entries(pveNodeAnswers()).filter(([line]) =>
      !line.startsWith("smartctl") && !line.startsWith("sensors")
    ),
  );
  const warnings: string[] = [];
  const collectors = createCollectors({
    ...deps(fakeRunner(answers)),
    hwmonDir: "/nonexistent/hwmon",
    smartEveryMs: 0,
    warn: (m) => warnings.push(m),
  });
  for (const now of [0, 60_000]) {
    const slow = await collectors.slow(now);
    assert.equal(slow.smart?.errors.length, 1);
    assert.match(
      slow.smart!.errors[0].message,
      /smartctl not found: install smartmontools/,
    );
    const medium = await collectors.medium(now);
    assert.equal(medium.temperatures?.source, null);
    assert.match(
      medium.temperatures!.errors.at(-1)!.message,
      /lm-sensors\) is not installed/,
    );
  }
  assert.equal(warnings.filter((w) => /smartctl/.test(w)).length, 1);
  assert.equal(warnings.filter((w) => /temperatures/.test(w)).length, 1);
});
