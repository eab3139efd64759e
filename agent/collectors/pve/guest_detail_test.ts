import assert from "node:assert/strict";
import type { GuestDetail } from "@proxmon/shared";
import { type FakeAnswer, fakeRunner } from "../../testing/fake_runner.ts";
import {
  guestConfig,
  guestList,
  lineOf,
  lxcInterfaces,
  qemuAgentInterfaces,
} from "../commands.ts";
import { readFixture } from "../../testing/fixtures.ts";
import { NODE, NODE_VMIDS, pveNodeAnswers } from "../../testing/test_node.ts";
import { createGuestConfigCache } from "./guest_cache.ts";
import {
  collectGuestsDetail,
  createGuestFactsCache,
  type GuestDetailDeps,
} from "./guest_detail.ts";
import { collectGuestsRuntime } from "./guest_lists.ts";
import { pveshSource } from "./pve_source.ts";

/** Deps over `runner` with no pmxcfs files: configs come through pvesh. */
function detailDeps(
  runner: ReturnType<typeof fakeRunner>,
  over: Partial<GuestDetailDeps> = {},
): GuestDetailDeps {
  return {
    source: pveshSource({ runner, timeoutMs: 1000 }),
    node: NODE,
    concurrency: 4,
    pveDir: "/nonexistent/pve",
    readConfigFile: () => Promise.resolve(undefined),
    configs: createGuestConfigCache(),
    facts: createGuestFactsCache(),
    nowMs: 0,
    ...over,
  };
}

/** One medium cycle: the guest lists, then the detail of their guests. */
async function medium(deps: GuestDetailDeps) {
  const runtime = await collectGuestsRuntime(deps.source, NODE);
  return collectGuestsDetail(runtime, deps);
}

async function detail(answers = pveNodeAnswers()) {
  const runner = fakeRunner(answers);
  const sample = await medium(detailDeps(runner));
  const byId = (vmid: number): GuestDetail =>
    sample.vms.find((v) => v.vmid === vmid)!;
  return { runner, sample, byId };
}

Deno.test("collectGuestsDetail() returns per-guest config and IPs (seed values)", async () => {
  const { sample, byId } = await detail();
  assert.deepEqual(sample.errors, []);
  const nginx = byId(100);
  assert.equal(nginx.config.cores, 2);
  assert.equal(nginx.config.memory, 2048);
  assert.ok(nginx.ips.includes("192.168.1.10"));
  assert.deepEqual(nginx.ips, ["192.168.1.10", "2001:db8:10::10"]);
  assert.deepEqual(nginx.errors, []);

  const db = byId(101);
  assert.equal(db.config.cores, 4);
  assert.deepEqual(db.ips, []);

  const mc = byId(200);
  assert.equal(mc.config.hostname, "minecraft");
  assert.ok(mc.ips.includes("10.0.0.5"));
});

Deno.test("collectGuestsDetail() records a guest agent that is not running in that guest's errors, with no IPs", async () => {
  const { byId } = await detail();
  const win = byId(102);
  assert.deepEqual(win.ips, []);
  assert.equal(win.errors.length, 1);
  assert.equal(win.errors[0].tag, "qemu_agent");
  assert.match(win.errors[0].message, /QEMU guest agent is not running/);
  assert.equal(win.config.name, "win-desktop"); // the rest of the guest is still there
});

Deno.test("collectGuestsDetail() asks the guest agent only of running, non-template VMs whose config enables it", async () => {
  const { runner } = await detail();
  const agentCalls = runner.calls.filter((c) => c.includes("/agent/"));
  // 101 stopped, 103 has no agent, 9000 is a template
  assert.deepEqual(agentCalls.sort(), [
    `pvesh get /nodes/${NODE}/qemu/100/agent/get-fsinfo --output-format json`,
    lineOf(qemuAgentInterfaces(NODE, 100)),
    `pvesh get /nodes/${NODE}/qemu/102/agent/get-fsinfo --output-format json`,
    lineOf(qemuAgentInterfaces(NODE, 102)),
  ]);
});

Deno.test("collectGuestsDetail() reports a VM's file systems from its guest agent, and nothing for containers", async () => {
  const { byId } = await detail();
  assert.deepEqual(byId(100).filesystems, [{
    mountpoint: "/boot",
    type: "ext4",
    total_bytes: 1916223488,
    used_bytes: 275972096,
  }]);
  // agent not running: one error for both calls, no file systems
  assert.equal(byId(102).filesystems, null);
  assert.equal(byId(102).errors.length, 1);
  assert.equal(byId(103).filesystems, null, "no agent configured");
  assert.equal(byId(200).filesystems, null, "a container: runtime disk");
});

Deno.test("collectGuestsDetail() makes no guest-agent call while a backup holds the guest, and shows the last answer", async () => {
  const { answers, cycle } = cachedCycles();
  const first = await cycle(0);
  const vm100 = first.sample.vms.find((g) => g.vmid === 100)!;
  changeListed(answers, "qemu", 100, { lock: "backup", uptime: 10 });
  const during = await cycle(MINUTE);
  // uptime went back (a restart) and would force a call; the lock wins
  assert.ok(!during.agent.some((c) => c.includes("/qemu/100/")));
  const held = during.sample.vms.find((g) => g.vmid === 100)!;
  assert.deepEqual(
    [held.ips, held.filesystems],
    [vm100.ips, vm100.filesystems],
  );
  changeListed(answers, "qemu", 100, { uptime: 20 });
  const after = await cycle(2 * MINUTE);
  assert.ok(after.agent.some((c) => c.includes("/qemu/100/agent/get-fsinfo")));
});

Deno.test("collectGuestsDetail() takes a container's static config addresses without a live call", async () => {
  const { byId, runner } = await detail();
  // net0 ip=10.0.0.5/24, net1 ip6=2001:db8:200::5/64: nothing left to see live
  assert.deepEqual(byId(200).ips, ["10.0.0.5", "2001:db8:200::5"]);
  assert.ok(!runner.calls.includes(lineOf(lxcInterfaces(NODE, 200))));
  // stopped: no live call, dhcp config gives nothing
  assert.deepEqual(byId(202).ips, []);
  assert.ok(!runner.calls.includes(lineOf(lxcInterfaces(NODE, 202))));
});

Deno.test("collectGuestsDetail() unites live LXC interfaces with the config's static addresses", async () => {
  const answers = pveNodeAnswers();
  const config = JSON.parse(readFixture("pvesh/lxc_200_config.json"));
  config.net1 = config.net1.replace("ip6=2001:db8:200::5/64", "ip6=auto");
  answers[lineOf(guestConfig(NODE, "lxc", 200))] = JSON.stringify(config);
  const { byId, runner } = await detail(answers);
  assert.ok(runner.calls.includes(lineOf(lxcInterfaces(NODE, 200))));
  // live: 10.0.0.5, 2001:db8:200::5, 172.17.0.1 (docker0)
  assert.deepEqual(byId(200).ips, [
    "10.0.0.5",
    "2001:db8:200::5",
    "172.17.0.1",
  ]);
});

Deno.test("collectGuestsDetail() falls back to config IPs where PVE has no LXC interfaces endpoint", async () => {
  const { byId } = await detail();
  const pihole = byId(201);
  assert.deepEqual(pihole.ips, ["192.168.1.53"]); // ip6=auto names no address
  assert.deepEqual(pihole.errors, []);
});

Deno.test("collectGuestsDetail() keeps going when single calls fail", async (t) => {
  await t.step(
    "a config that times out: empty config and an error for that guest only",
    async () => {
      const answers = pveNodeAnswers();
      answers[lineOf(guestConfig(NODE, "qemu", 100))] = {
        error: { kind: "timeout", timeoutMs: 1000, message: "killed" },
      };
      const { byId } = await detail(answers);
      assert.deepEqual(byId(100).config, {});
      assert.deepEqual(byId(100).errors.map((e) => e.tag), ["guest_config"]);
      assert.deepEqual(byId(100).ips, []); // agent not known to be enabled without a config
      assert.deepEqual(byId(101).errors, []);
    },
  );
  await t.step("a guest agent error object", async () => {
    const answers = pveNodeAnswers();
    answers[lineOf(qemuAgentInterfaces(NODE, 100))] = readFixture(
      "pvesh/qemu_agent_error_unsupported.json",
    );
    const { byId } = await detail(answers);
    assert.deepEqual(byId(100).ips, []);
    assert.match(byId(100).errors[0].message, /Unsupported/);
  });
  await t.step(
    "an LXC interfaces call that times out is reported, config IPs still given",
    async () => {
      const answers = pveNodeAnswers();
      answers[lineOf(lxcInterfaces(NODE, 201))] = {
        error: { kind: "timeout", timeoutMs: 1000, message: "killed" },
      };
      const { byId } = await detail(answers);
      assert.deepEqual(byId(201).ips, ["192.168.1.53"]);
      assert.deepEqual(byId(201).errors.map((e) => e.tag), ["lxc_interfaces"]);
    },
  );
  await t.step(
    "the qemu list fails: containers still detailed, error at the top",
    async () => {
      const answers = pveNodeAnswers();
      delete answers[lineOf(guestList(NODE, "qemu"))];
      const { sample } = await detail(answers);
      assert.deepEqual(sample.vms.map((v) => v.vmid), [200, 201, 202]);
      assert.deepEqual(sample.errors.map((e) => e.tag), ["qemu_list"]);
    },
  );
});

// ---- configs cached across medium cycles -----------------------------------

const MINUTE = 60_000;
const TTL = 10 * MINUTE;
const CONFIG_CALL = /^pvesh get \/nodes\/[^/]+\/(?:qemu|lxc)\/(\d+)\/config /;
const IP_CALLS = [
  lineOf(qemuAgentInterfaces(NODE, 100)),
  lineOf(qemuAgentInterfaces(NODE, 102)),
  lineOf(lxcInterfaces(NODE, 201)),
];

/**
 * Medium cycles over one config cache and one answer table, which a test may
 * change between cycles. Each cycle returns its sample, the vmids whose
 * config it fetched and its IP calls.
 */
function cachedCycles(
  answers = pveNodeAnswers(),
  ttlMs = TTL,
  over: Partial<GuestDetailDeps> = {},
) {
  const runner = fakeRunner(answers);
  const cache = createGuestConfigCache(ttlMs);
  const facts = createGuestFactsCache(ttlMs);
  return {
    answers,
    cache,
    facts,
    async cycle(nowMs: number) {
      const from = runner.calls.length;
      const sample = await medium(
        detailDeps(runner, { configs: cache, facts, nowMs, ...over }),
      );
      const calls = runner.calls.slice(from);
      const configs = calls.flatMap((c) => {
        const match = CONFIG_CALL.exec(c);
        return match ? [Number(match[1])] : [];
      });
      const ips = calls.filter((c) => IP_CALLS.includes(c)).sort();
      const agent = calls.filter((c) => c.includes("/agent/"));
      return { sample, configs: configs.sort((a, b) => a - b), ips, agent };
    },
  };
}

/** `answers` with the `kind` list's entry for `vmid` changed (`null`: removed). */
function changeListed(
  answers: Record<string, FakeAnswer>,
  kind: "qemu" | "lxc",
  vmid: number,
  change: Record<string, unknown> | null,
): void {
  const line = lineOf(guestList(NODE, kind));
  const list = JSON.parse(readFixture(`pvesh/${kind}.json`)) as Record<
    string,
    unknown
  >[];
  answers[line] = JSON.stringify(
    list.flatMap((entry) =>
      entry.vmid !== vmid ? [entry] : change ? [{ ...entry, ...change }] : []
    ),
  );
}

/**
 * After a first cycle, `change` to one guest in the list makes the next
 * cycle fetch `fetched` again, and only it, and the one after nothing.
 */
async function refetchedOnce(
  what: "configs" | "ips",
  kind: "qemu" | "lxc",
  vmid: number,
  change: Record<string, unknown>,
  fetched: number | string,
) {
  const { answers, cycle } = cachedCycles();
  await cycle(0);
  changeListed(answers, kind, vmid, change);
  assert.deepEqual((await cycle(MINUTE))[what], [fetched]);
  assert.deepEqual((await cycle(2 * MINUTE))[what], []);
}

Deno.test("collectGuestsDetail() with caches runs no config or IP command within the TTL", async () => {
  const { cycle } = cachedCycles();
  const first = await cycle(0);
  assert.deepEqual(first.configs, NODE_VMIDS);
  assert.deepEqual(first.ips, [...IP_CALLS].sort());
  const second = await cycle(MINUTE);
  assert.deepEqual(second.configs, []);
  assert.deepEqual(second.ips, []);
  // the cached answers, errors included, are still in the payload
  assert.deepEqual(second.sample, first.sample);
});

Deno.test("collectGuestsDetail() asks a guest for its IPs again at once when it restarts or starts", async (t) => {
  const cases: [
    string,
    "qemu" | "lxc",
    number,
    Record<string, unknown>,
    string,
  ][] = [
    [
      "restarted VM",
      "qemu",
      100,
      { uptime: 400 },
      lineOf(qemuAgentInterfaces(NODE, 100)),
    ],
    [
      "restarted container",
      "lxc",
      201,
      { uptime: 400 },
      lineOf(lxcInterfaces(NODE, 201)),
    ],
  ];
  for (const [what, kind, vmid, change, call] of cases) {
    await t.step(what, () => refetchedOnce("ips", kind, vmid, change, call));
  }
});

Deno.test("collectGuestsDetail() retries a failing guest agent every cycle only while the guest is booting", async () => {
  const { answers, cycle } = cachedCycles();
  // 102's agent is not running; just started, it may still come up
  changeListed(answers, "qemu", 102, { uptime: 30 });
  const agent102 = lineOf(qemuAgentInterfaces(NODE, 102));
  assert.ok((await cycle(0)).ips.includes(agent102));
  changeListed(answers, "qemu", 102, { uptime: 90 });
  assert.deepEqual((await cycle(MINUTE)).ips, [agent102]);
  // up for long: the failure is kept for the TTL like an answer
  changeListed(answers, "qemu", 102, { uptime: 600 });
  assert.deepEqual((await cycle(2 * MINUTE)).ips, [agent102]);
  changeListed(answers, "qemu", 102, { uptime: 660 });
  assert.deepEqual((await cycle(3 * MINUTE)).ips, []);
});

Deno.test("collectGuestsDetail() payload from cached configs deep-equals a fresh collection", async () => {
  const { cycle } = cachedCycles();
  await cycle(0);
  const cached = await cycle(MINUTE);
  assert.deepEqual(cached.configs, []);
  const { sample: fresh } = await detail();
  assert.deepEqual(cached.sample, fresh);
});

Deno.test("collectGuestsDetail() refetches configs after the TTL, a few guests per cycle", async () => {
  const { cycle } = cachedCycles();
  await cycle(0);
  const perCycle: number[][] = [];
  for (let nowMs = MINUTE; nowMs <= 2 * TTL; nowMs += MINUTE) {
    const { configs } = await cycle(nowMs);
    perCycle.push(configs);
  }
  // every guest again within 1½ TTL, then once in each TTL
  assert.deepEqual(
    perCycle.slice(0, 15).flat().sort((a, b) => a - b),
    NODE_VMIDS,
  );
  assert.ok(
    perCycle.every((configs) => configs.length < NODE_VMIDS.length / 2),
  );
  const lastTtl = perCycle.slice(10).flat().sort((a, b) => a - b);
  assert.deepEqual(lastTtl, NODE_VMIDS);
});

Deno.test("collectGuestsDetail() refetches at once the config of a guest renamed or restarted", async (t) => {
  const cases: [string, "qemu" | "lxc", number, Record<string, unknown>][] = [
    ["renamed VM", "qemu", 100, { name: "nginx-edge" }],
    ["restarted VM (uptime went back)", "qemu", 100, { uptime: 12 }],
    ["started VM", "qemu", 101, { status: "running", uptime: 5 }],
    ["container given more memory", "lxc", 201, { maxmem: 1073741824 }],
  ];
  for (const [what, kind, vmid, change] of cases) {
    await t.step(
      what,
      () => refetchedOnce("configs", kind, vmid, change, vmid),
    );
  }
});

Deno.test("collectGuestsDetail() retries a failed config fetch in the next cycle, reporting it as before", async () => {
  const answers = pveNodeAnswers();
  const config100 = lineOf(guestConfig(NODE, "qemu", 100));
  const good = answers[config100];
  answers[config100] = {
    error: { kind: "timeout", timeoutMs: 1000, message: "killed" },
  };
  const { cycle } = cachedCycles(answers);
  const failed = await cycle(0);
  const vm100 = failed.sample.vms.find((v) => v.vmid === 100)!;
  assert.deepEqual(vm100.config, {});
  assert.deepEqual(vm100.errors.map((e) => e.tag), ["guest_config"]);

  const stillFailing = await cycle(MINUTE);
  assert.deepEqual(stillFailing.configs, [100]);
  assert.deepEqual(
    stillFailing.sample.vms.find((v) => v.vmid === 100)!.errors.map((e) =>
      e.tag
    ),
    ["guest_config"],
  );

  answers[config100] = good;
  const retried = await cycle(2 * MINUTE);
  assert.deepEqual(retried.configs, [100]);
  const { sample: fresh } = await detail();
  assert.deepEqual(retried.sample, fresh);
  assert.deepEqual((await cycle(3 * MINUTE)).configs, []);
});

Deno.test("collectGuestsDetail() evicts a guest that left the list, but not the guests of a list that failed", async () => {
  const { answers, cache, cycle } = cachedCycles();
  await cycle(0);
  changeListed(answers, "qemu", 101, null);
  const without = await cycle(MINUTE);
  assert.ok(!without.sample.vms.some((v) => v.vmid === 101));
  assert.equal(cache.size, NODE_VMIDS.length - 1);
  // back within the TTL (e.g. a restored backup): fetched, not the old config
  changeListed(answers, "qemu", 101, {});
  assert.deepEqual((await cycle(2 * MINUTE)).configs, [101]);

  delete answers[lineOf(guestList(NODE, "lxc"))];
  const lxcFailed = await cycle(3 * MINUTE);
  assert.deepEqual(lxcFailed.sample.errors.map((e) => e.tag), ["lxc_list"]);
  assert.equal(cache.size, NODE_VMIDS.length);
  answers[lineOf(guestList(NODE, "lxc"))] = readFixture("pvesh/lxc.json");
  assert.deepEqual((await cycle(4 * MINUTE)).configs, []);
});

// ---- guest-agent asks spread over cycles -----------------------------------

/** The guests (vmids) whose facts a cycle asked for, from its calls. */
const askedIn = (c: { ips: string[] }) =>
  c.ips.map((line) => Number(/\/(\d+)\/(?:agent|interfaces)/.exec(line)![1]));

Deno.test("collectGuestsDetail() asks at most factsPerCycle guests a cycle; the rest wait, showing no IPs yet", async () => {
  const { cycle } = cachedCycles(pveNodeAnswers(), TTL, { factsPerCycle: 1 });
  const first = await cycle(0);
  // never asked: in vmid order
  assert.deepEqual(askedIn(first), [100]);
  const ipsOf = (c: typeof first, vmid: number) =>
    c.sample.vms.find((v) => v.vmid === vmid)!.ips;
  assert.ok(ipsOf(first, 100).includes("192.168.1.10"));
  assert.deepEqual(ipsOf(first, 102), [], "102 waits: nothing yet");
  // 201's live interfaces wait; its config's static address shows meanwhile
  assert.deepEqual(ipsOf(first, 201), ["192.168.1.53"]);
  const second = await cycle(MINUTE);
  assert.deepEqual(askedIn(second), [102]);
  assert.deepEqual(askedIn(await cycle(2 * MINUTE)), [201]);
  assert.deepEqual(askedIn(await cycle(3 * MINUTE)), [], "all known now");
});

Deno.test("collectGuestsDetail() with a per-cycle limit asks a restarted guest before the ones that are due", async () => {
  const { answers, cycle } = cachedCycles(pveNodeAnswers(), TTL, {
    factsPerCycle: 1,
  });
  for (let i = 0; i < 3; i++) await cycle(i * MINUTE);
  // far past every guest's refresh, and 102 has restarted meanwhile
  changeListed(answers, "qemu", 102, { uptime: 400 });
  const later = 5 * TTL;
  assert.deepEqual(askedIn(await cycle(later)), [102]);
  // then the overdue ones, one a cycle, the longest overdue first
  const next = askedIn(await cycle(later + MINUTE));
  const last = askedIn(await cycle(later + 2 * MINUTE));
  assert.deepEqual([...next, ...last].sort((a, b) => a - b), [100, 201]);
  assert.deepEqual(askedIn(await cycle(later + 3 * MINUTE)), []);
});

Deno.test("collectGuestsDetail() keeps showing a due guest's last answer while it waits for its turn", async () => {
  const { cycle } = cachedCycles(pveNodeAnswers(), TTL, { factsPerCycle: 1 });
  for (let i = 0; i < 3; i++) await cycle(i * MINUTE);
  const known = await cycle(3 * MINUTE);
  const waiting = await cycle(5 * TTL);
  assert.equal(askedIn(waiting).length, 1);
  for (const vmid of [100, 102, 201]) {
    assert.deepEqual(
      waiting.sample.vms.find((v) => v.vmid === vmid)!.ips,
      known.sample.vms.find((v) => v.vmid === vmid)!.ips,
      `vm ${vmid}`,
    );
  }
});
