import assert from "node:assert/strict";
import type { VmDetail } from "@proxmon/shared";
import { fakeRunner } from "../../fake_runner.ts";
import {
  guestConfig,
  guestList,
  lineOf,
  lxcInterfaces,
  qemuAgentInterfaces,
} from "../commands.ts";
import { readFixture } from "../test_fixtures.ts";
import { NODE, pveNodeAnswers } from "../test_node.ts";
import { collectVmsDetail } from "./guest_detail.ts";

async function detail(answers = pveNodeAnswers()) {
  const runner = fakeRunner(answers);
  const sample = await collectVmsDetail({ runner, timeoutMs: 1000 }, NODE, 4);
  const byId = (vmid: number): VmDetail =>
    sample.vms.find((v) => v.vmid === vmid)!;
  return { runner, sample, byId };
}

Deno.test("collectVmsDetail() returns per-guest config and IPs (seed values)", async () => {
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

Deno.test("collectVmsDetail() records a guest agent that is not running in that guest's errors, with no IPs", async () => {
  const { byId } = await detail();
  const win = byId(102);
  assert.deepEqual(win.ips, []);
  assert.equal(win.errors.length, 1);
  assert.equal(win.errors[0].tag, "qemu_agent");
  assert.match(win.errors[0].message, /QEMU guest agent is not running/);
  assert.equal(win.config.name, "win-desktop"); // the rest of the guest is still there
});

Deno.test("collectVmsDetail() asks the guest agent only of running, non-template VMs whose config enables it", async () => {
  const { runner } = await detail();
  const agentCalls = runner.calls.filter((c) => c.includes("/agent/"));
  // 101 stopped, 103 has no agent, 9000 is a template
  assert.deepEqual(agentCalls.sort(), [
    lineOf(qemuAgentInterfaces(NODE, 100)),
    lineOf(qemuAgentInterfaces(NODE, 102)),
  ]);
});

Deno.test("collectVmsDetail() unites live LXC interfaces with the config's static addresses", async () => {
  const { byId, runner } = await detail();
  // live: 10.0.0.5, 2001:db8:200::5, 172.17.0.1 (docker0); config adds nothing new
  assert.deepEqual(byId(200).ips, [
    "10.0.0.5",
    "2001:db8:200::5",
    "172.17.0.1",
  ]);
  // stopped: no live call, dhcp config gives nothing
  assert.deepEqual(byId(202).ips, []);
  assert.ok(!runner.calls.includes(lineOf(lxcInterfaces(NODE, 202))));
});

Deno.test("collectVmsDetail() falls back to config IPs where PVE has no LXC interfaces endpoint", async () => {
  const { byId } = await detail();
  const pihole = byId(201);
  assert.deepEqual(pihole.ips, ["192.168.1.53"]); // ip6=auto names no address
  assert.deepEqual(pihole.errors, []);
});

Deno.test("collectVmsDetail() keeps going when single calls fail", async (t) => {
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
      answers[lineOf(lxcInterfaces(NODE, 200))] = {
        error: { kind: "timeout", timeoutMs: 1000, message: "killed" },
      };
      const { byId } = await detail(answers);
      assert.deepEqual(byId(200).ips, ["10.0.0.5", "2001:db8:200::5"]);
      assert.deepEqual(byId(200).errors.map((e) => e.tag), ["lxc_interfaces"]);
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
