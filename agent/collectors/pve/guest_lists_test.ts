import assert from "node:assert/strict";
import { fakeRunner } from "../../testing/fake_runner.ts";
import { guestList, lineOf } from "../commands.ts";
import { readFixture } from "../../testing/fixtures.ts";
import { NODE, NODE_VMIDS, pveNodeAnswers } from "../../testing/test_node.ts";
import {
  collectGuestsRuntime,
  guestsFromList,
  parseLxcList,
  parseQemuList,
} from "./guest_lists.ts";
import { pveshSource } from "./pve_source.ts";

/** A real API answer's guest list (its `data`), parsed as `type`. */
const realList = (file: string, type: "qemu" | "lxc") =>
  guestsFromList(JSON.parse(readFixture(`pvesh/real/${file}`)).data, type);

const exec = (answers = pveNodeAnswers()) => {
  const runner = fakeRunner(answers);
  return { runner, exec: { runner, timeoutMs: 1000 } };
};

Deno.test("collectGuestsRuntime() returns qemu and lxc runtime info (seed values)", async () => {
  const { runner, exec: e } = exec();
  const sample = await collectGuestsRuntime(pveshSource(e), NODE);
  assert.deepEqual(sample.errors, []);
  // every guest from both lists: 5 VMs + 3 containers, by vmid
  assert.deepEqual(sample.vms.map((v) => v.vmid), NODE_VMIDS);
  const nginx = sample.vms.find((v) => v.vmid === 100)!;
  assert.equal(nginx.type, "qemu");
  assert.equal(nginx.name, "nginx-proxy");
  assert.equal(nginx.status, "running");
  assert.equal(nginx.cpu_usage, 0.05);
  assert.equal(nginx.mem_bytes, 536_870_912);
  assert.equal(nginx.max_mem_bytes, 2_147_483_648);
  assert.deepEqual(nginx.tags, ["web", "production"]);
  assert.equal(nginx.template, false);
  const mc = sample.vms.find((v) => v.vmid === 200)!;
  assert.equal(mc.type, "lxc");
  assert.deepEqual(mc.tags, []);
  assert.deepEqual(runner.calls.sort(), [
    "pvesh get /nodes/pve-01/lxc --output-format json",
    "pvesh get /nodes/pve-01/qemu --output-format json",
  ]);
});

Deno.test("parseQemuList() marks templates and keeps PVE's counters", () => {
  const { vms } = parseQemuList(readFixture("pvesh/qemu.json"));
  const template = vms.find((v) => v.vmid === 9000)!;
  assert.equal(template.template, true);
  assert.equal(template.status, "stopped");
  const nginx = vms.find((v) => v.vmid === 100)!;
  assert.equal(nginx.netin_bytes, 987654321);
  assert.equal(nginx.diskread_bytes, 1073741824);
  assert.equal(nginx.max_disk_bytes, 34359738368);
});

Deno.test('parseQemuList() on the PVE 6.2 recording: string vmids become numbers, template "" is false', () => {
  const { vms, errors } = parseQemuList(
    readFixture(
      "pvesh/real/transcribed_ansible_pve6.2__nodes_qemu_list_with_template_stopped.json",
    ),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(vms.map((v) => [v.vmid, v.template]), [
    [101, false],
    [102, false],
    [103, false],
    [9001, true],
  ]);
  assert.equal(vms[0].name, "test-qemu");
  assert.equal(vms[0].uptime_seconds, 1000);
});

Deno.test("parseLxcList() reads containers, splitting tags on ; , and spaces", () => {
  const { vms, errors } = parseLxcList(readFixture("pvesh/lxc.json"));
  assert.deepEqual(errors, []);
  assert.deepEqual(vms.map((v) => [v.vmid, v.type, v.status, v.tags]), [
    [200, "lxc", "running", []],
    [201, "lxc", "running", ["dns", "infra"]],
    [202, "lxc", "stopped", []],
  ]);
  const tags =
    parseLxcList('[{"vmid":"300","tags":"one, two three;four"}]').vms[0];
  assert.deepEqual(tags.tags, ["one", "two", "three", "four"]);
  assert.equal(tags.vmid, 300);
  assert.equal(tags.name, "CT300"); // PVE's own default
});

Deno.test("collectGuestsRuntime() keeps the other list when one pvesh call fails", async (t) => {
  await t.step("lxc list times out", async () => {
    const answers = pveNodeAnswers();
    answers[lineOf(guestList(NODE, "lxc"))] = {
      error: { kind: "timeout", timeoutMs: 1000, message: "killed" },
    };
    const sample = await collectGuestsRuntime(
      pveshSource(exec(answers).exec),
      NODE,
    );
    assert.equal(sample.vms.length, 5);
    assert.deepEqual(sample.errors.map((e) => e.tag), ["lxc_list"]);
  });
  await t.step("qemu list is truncated JSON", async () => {
    const answers = pveNodeAnswers();
    answers[lineOf(guestList(NODE, "qemu"))] = readFixture("pvesh/qemu.json")
      .slice(0, 120);
    const sample = await collectGuestsRuntime(
      pveshSource(exec(answers).exec),
      NODE,
    );
    assert.deepEqual(sample.vms.map((v) => v.vmid), [200, 201, 202]);
    assert.match(sample.errors[0].message, /invalid JSON/);
  });
  await t.step(
    "strings where numbers belong and a guest without a vmid",
    () => {
      const { vms, errors } = parseQemuList(
        '[{"vmid":"abc","name":"x"},{"vmid":105,"mem":"lots","maxmem":"1024","status":"running"}]',
      );
      assert.deepEqual(vms.map((v) => [v.vmid, v.mem_bytes, v.max_mem_bytes]), [
        [105, null, 1024],
      ]);
      assert.equal(errors.length, 2);
    },
  );
});

Deno.test("the real PVE 9 qemu list: numeric pressure on the running VM, none on the stopped template", () => {
  const { vms, errors } = realList(
    "api_nodes_qemu__pve9_running_and_template_pressure_numbers.json",
    "qemu",
  );
  assert.deepEqual(errors, []);
  const template = vms.find((g) => g.vmid === 101)!;
  assert.equal(template.psi, null, "a stopped guest has no pressure fields");
  const running = vms.find((g) => g.vmid === 100)!;
  const zero = {
    some_avg10: 0,
    some_avg60: null,
    full_avg10: 0,
    full_avg60: null,
  };
  assert.deepEqual(running.psi, { cpu: zero, memory: zero, io: zero });
});

Deno.test("the transcribed PVE 9.2 lxc list: pressure as strings becomes numbers", () => {
  const { vms, errors } = realList(
    "api_nodes_lxc__pve9.2.2_pressure_strings_TRANSCRIBED.json",
    "lxc",
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(vms.map((g) => g.vmid), [9002, 101]);
  for (const g of vms) {
    assert.equal(g.psi?.cpu?.some_avg10, 0, 'the string "0.00" as a number');
    assert.equal(g.psi?.io?.full_avg10, 0);
    assert.equal(g.psi?.memory?.some_avg60, null, "PVE sends avg10 only");
  }
  // a real surprise kept as is: PVE's cpu figure is slightly negative
  assert.equal(vms[1].cpu_usage, -5.75291683982414e-05);
});

Deno.test("guest pressure: non-zero values, strings and numbers, and a bad value reported", () => {
  const { vms } = parseQemuList(readFixture("pvesh/qemu.json"));
  assert.deepEqual(vms.find((g) => g.vmid === 100)!.psi?.cpu, {
    some_avg10: 0.12,
    some_avg60: null,
    full_avg10: 0,
    full_avg60: null,
  });
  const lxc = parseLxcList(readFixture("pvesh/lxc.json")).vms;
  assert.equal(lxc.find((g) => g.vmid === 202)!.psi, null, "stopped");
  const odd = guestsFromList([{
    vmid: 7,
    status: "running",
    pressurecpusome: "1.25",
    pressurecpufull: "n/a",
    pressureiosome: 3,
  }], "lxc");
  const psi = odd.vms[0].psi!;
  assert.equal(psi.cpu?.some_avg10, 1.25);
  assert.equal(psi.cpu?.full_avg10, null);
  assert.equal(psi.io?.some_avg10, 3);
  assert.equal(psi.memory?.some_avg10, null, "missing: null, not 0");
  assert.deepEqual(odd.errors, [{
    tag: "lxc_list",
    message: '7.pressurecpufull: expected a number, got "n/a"',
  }]);
});
