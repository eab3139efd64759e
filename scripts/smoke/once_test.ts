/**
 * What one `proxmon-agent --once` costs a PVE node: the real agent, with the
 * shipped permissions, on a simulated node whose `pvesh` logs every call.
 */
import assert from "node:assert/strict";
import { spawnAgent } from "../../agent/testing/agent_process.ts";
import { startFakePveApi } from "../../agent/testing/fake_pve_api.ts";
import { makeTestTls } from "../../agent/testing/test_tls.ts";
import { installPveshLog } from "../fake_node/pvesh_log.ts";
import { pveApiAnswer } from "../fake_node/tools/pvesh.ts";
import { type SimulatedNode, startSimulatedNode } from "./stack.ts";
import { guestPressureAvg10 } from "../fake_node/cgroup.ts";
import { isUp } from "../fake_node/node_model.ts";

interface OnceGuest {
  vmid: number;
  psi: { cpu: { some_avg10: number; some_avg60: number } | null } | null;
}

/** Every running guest has its cgroup's pressure, avg60 included; the others none. */
function assertGuestPressure(node: SimulatedNode, vms: OnceGuest[]) {
  for (const g of node.model.guests) {
    const psi = vms.find((v) => v.vmid === g.vmid)!.psi;
    if (!isUp(g)) {
      assert.equal(psi, null, `${g.vmid} is not running`);
      continue;
    }
    const { some } = guestPressureAvg10(g);
    assert.deepEqual(
      [psi?.cpu?.some_avg10, psi?.cpu?.some_avg60],
      [some, some],
      `${g.vmid}: pressure from its cgroup`,
    );
  }
}

const PROFILE =
  `${import.meta.dirname}/../fake_node/profiles/degraded_zfs23.toml`;
const LIST_CALL =
  /^get (\/cluster\/resources|\/nodes\/[^/ ]+\/(qemu|lxc|storage)) --output-format/;

/** An agent config for `--once` (no server) on the simulated node; `pve` adds lines to `[pve]`. */
async function writeOnceConfig(
  dir: string,
  node: SimulatedNode,
  pve: string[] = [],
): Promise<string> {
  const config = `${dir}/agent.toml`;
  await Deno.writeTextFile(
    config,
    [
      `server_url = "ws://127.0.0.1:9/agent/ws"`,
      `token = "unused"`,
      `host_id = "pve-lab"`,
      `node = "${node.model.node}"`,
      `proc_dir = "${node.procDir}"`,
      `cgroup_dir = "${node.cgroupDir}"`,
      "[pve]",
      `config_dir = "${node.pveDir}"`,
      ...pve,
      "",
    ].join("\n"),
  );
  return config;
}

Deno.test("one --once on an 8-guest node makes one pvesh list call and reads configs from pmxcfs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-once-" });
  const node = await startSimulatedNode(PROFILE, dir);
  try {
    const pvesh = await installPveshLog(dir);
    const config = await writeOnceConfig(dir, node);
    const once = await spawnAgent(["--once", "--config", config], {
      path: `${pvesh.binDir}:${node.env.PATH}`,
      env: node.env,
    }).finished;
    assert.equal(once.code, 0, once.stderr);
    const calls = await pvesh.calls();
    assert.deepEqual(calls.filter((c) => LIST_CALL.test(c)), [
      "get /cluster/resources --output-format json",
    ]);
    assert.deepEqual(calls.filter((c) => c.includes("/config ")), []);

    const { fast, medium } = JSON.parse(once.stdout);
    const guests = node.model.guests.length;
    assert.equal(fast.vms_runtime.vms.length, guests);
    // /cluster/resources has no pressure*: it comes from the cgroups
    assertGuestPressure(node, fast.vms_runtime.vms);
    assert.equal(medium.vms_detail.vms.length, guests);
    for (const vm of medium.vms_detail.vms) {
      assert.ok(vm.config.digest, `${vm.vmid}: config read`);
      assert.equal(vm.config.snaptime, undefined, "no snapshot values");
    }
    assert.doesNotMatch(once.stdout, /cipassword|\$5\$/);
  } finally {
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with an API token, --once asks the HTTPS API and runs no pvesh at all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-once-api-" });
  const node = await startSimulatedNode(PROFILE, dir);
  const tls = await makeTestTls(dir);
  const token = "proxmon@pve!agent=5b4d1b52-6e4c-4a4f-9d1e-0c2e6d0f7a11";
  const api = startFakePveApi({
    tls,
    token,
    answer: (path, params) =>
      pveApiAnswer(node.model, path, Date.now(), params),
  });
  try {
    const pvesh = await installPveshLog(dir);
    const config = await writeOnceConfig(dir, node, [
      `api_token = "${token}"`,
      `api_url = "${api.url}"`,
      `ca_file = "${tls.caFile}"`,
    ]);
    const once = await spawnAgent(["--once", "--config", config], {
      path: `${pvesh.binDir}:${node.env.PATH}`,
      env: node.env,
    }).finished;
    assert.equal(once.code, 0, once.stderr);
    assert.deepEqual(await pvesh.calls(), []);
    assert.ok(api.requests.includes(`/nodes/${node.model.node}/qemu`));
    const { fast, medium } = JSON.parse(once.stdout);
    assert.equal(fast.vms_runtime.vms.length, node.model.guests.length);
    assertGuestPressure(node, fast.vms_runtime.vms);
    assert.deepEqual(
      fast.vms_runtime.errors.filter((e: { tag: string }) =>
        e.tag === "pve_api"
      ),
      [],
    );
    assert.ok(
      medium.vms_detail.vms.some((g: { ips: string[] }) => g.ips.length > 0),
      "guest-agent IPs through the API",
    );
    assert.match(once.stderr, /^info: \d+ commands, /m);
    assert.doesNotMatch(once.stderr, new RegExp(token.split("=")[1]));
  } finally {
    await api.close();
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
