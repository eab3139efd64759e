/**
 * The PVE API source against a real HTTPS server on 127.0.0.1 with its own
 * CA, as pveproxy serves with pve-root-ca.pem; the fixtures are the ones the
 * pvesh tests use.
 */
import assert from "node:assert/strict";
import { fakeRunner } from "../../testing/fake_runner.ts";
import {
  type ApiAnswer,
  type FakePveApi,
  startFakePveApi,
} from "../../testing/fake_pve_api.ts";
import { readFixture } from "../../testing/fixtures.ts";
import { NODE, pveNodeAnswers } from "../../testing/test_node.ts";
import { makeTestTls, type TestTls } from "../../testing/test_tls.ts";
import { createCollectors } from "../mod.ts";
import { pveApiClient, pveApiCycles, pveApiSource } from "./pve_api.ts";

const TOKEN = "proxmon@pve!agent=5b4d1b52-6e4c-4a4f-9d1e-0c2e6d0f7a11";

/** The fixture node's pvesh answers, by API path. */
function fixtureAnswer(path: string): ApiAnswer | undefined {
  const fixtures: Record<string, string> = {
    [`/nodes/${NODE}/storage`]: "pvesh/storage.json",
    [`/nodes/${NODE}/qemu`]: "pvesh/qemu.json",
    [`/nodes/${NODE}/lxc`]: "pvesh/lxc.json",
    [`/nodes/${NODE}/qemu/100/agent/network-get-interfaces`]:
      "pvesh/qemu_100_agent_interfaces.json",
    [`/nodes/${NODE}/lxc/200/interfaces`]: "pvesh/lxc_200_interfaces.json",
    "/cluster/resources": "pvesh/cluster_resources.json",
  };
  const config = /^\/nodes\/[^/]+\/(qemu|lxc)\/(\d+)\/config$/.exec(path);
  if (config) {
    return JSON.parse(
      readFixture(`pvesh/${config[1]}_${config[2]}_config.json`),
    );
  }
  if (path.endsWith("/qemu/102/agent/network-get-interfaces")) {
    return { status: 500, message: "QEMU guest agent is not running" };
  }
  const file = fixtures[path];
  return file ? JSON.parse(readFixture(file)) : undefined;
}

async function withApi(
  fn: (api: FakePveApi, tls: TestTls, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-api-" });
  const tls = await makeTestTls(dir);
  const api = startFakePveApi({ tls, token: TOKEN, answer: fixtureAnswer });
  try {
    await fn(api, tls, dir);
  } finally {
    await api.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the PVE API source answers over HTTPS when it trusts the node's CA, and not otherwise", async () => {
  await withApi(async (api, tls, dir) => {
    const client = pveApiClient(tls.caPem);
    try {
      const source = pveApiSource({
        url: api.url,
        token: TOKEN,
        timeoutMs: 5_000,
        client,
      });
      const out = await source.get(`/nodes/${NODE}/qemu`, "qemu_list");
      assert.ok(out.ok);
      assert.deepEqual(out.data, JSON.parse(readFixture("pvesh/qemu.json")));

      // PVE's refusal: the request, not the API, is the problem
      const refused = await source.get(
        `/nodes/${NODE}/qemu/102/agent/network-get-interfaces`,
        "qemu_agent",
      );
      assert.equal(refused.ok, false);
      assert.ok(!refused.ok && refused.refused);
      assert.match(
        !refused.ok ? refused.error.message : "",
        /500 QEMU guest agent is not running/,
      );
    } finally {
      client.close();
    }

    // Without the node's CA the certificate is not trusted.
    const untrusting = pveApiSource({
      url: api.url,
      token: TOKEN,
      timeoutMs: 5_000,
    });
    const tlsFail = await untrusting.get("/cluster/resources", "x");
    assert.ok(!tlsFail.ok && !tlsFail.refused);
    assert.match(
      !tlsFail.ok ? tlsFail.error.message : "",
      /certificate|UnknownIssuer|invalid peer/i,
    );

    // Nor with another CA.
    await Deno.mkdir(`${dir}/other`);
    const other = await makeTestTls(`${dir}/other`, "another CA");
    const otherClient = pveApiClient(other.caPem);
    try {
      const wrong = await pveApiSource({
        url: api.url,
        token: TOKEN,
        timeoutMs: 5_000,
        client: otherClient,
      }).get("/cluster/resources", "x");
      assert.equal(wrong.ok, false);
    } finally {
      otherClient.close();
    }
  });
});

/** The agent's collectors on the test node's answers, the PVE part through `pveCycle`. */
function apiCollectors(pveCycle: ReturnType<typeof pveApiCycles>) {
  const runner = fakeRunner(pveNodeAnswers());
  const collectors = createCollectors({
    runner,
    procDir: `${import.meta.dirname}/../../../fixtures/proc/pve_t0`,
    node: NODE,
    agentVersion: "0.1.0",
    commandTimeoutMs: 5_000,
    concurrency: 4,
    readConfigFile: () => Promise.resolve(undefined),
    pveCycle,
  });
  return { runner, collectors };
}

Deno.test("with a token, the collectors run no pvesh at all", async () => {
  await withApi(async (api, tls) => {
    const client = pveApiClient(tls.caPem);
    try {
      const { runner, collectors } = apiCollectors(
        pveApiCycles({ url: api.url, token: TOKEN, timeoutMs: 5_000, client }),
      );
      const fast = await collectors.fast(0);
      const medium = await collectors.medium(0);
      assert.deepEqual(runner.calls.filter((c) => c.startsWith("pvesh")), []);
      assert.deepEqual(fast.vms_runtime.errors, []);
      assert.equal(fast.vms_runtime.vms.length, 8);
      // the per-node list, with the disabled storage and `avail`
      assert.equal(fast.storage.storages.length, 4);
      assert.deepEqual(medium.vms_detail.errors, []);
      const vm100 = medium.vms_detail.vms.find((g) => g.vmid === 100)!;
      assert.deepEqual(vm100.ips, ["192.168.1.10", "2001:db8:10::10"]);
      const vm102 = medium.vms_detail.vms.find((g) => g.vmid === 102)!;
      assert.match(vm102.errors[0].message, /QEMU guest agent is not running/);
      assert.ok(api.requests.includes(`/nodes/${NODE}/qemu`));
      assert.ok(!api.requests.includes("/cluster/resources"));
    } finally {
      client.close();
    }
  });
});

Deno.test("when the API fails, the cycle falls back to pvesh and records one error; the next cycle tries the API again", async (t) => {
  await withApi(async (api, tls) => {
    const client = pveApiClient(tls.caPem);
    try {
      const collect = (token: string, url = api.url) => {
        return apiCollectors(
          pveApiCycles({ url, token, timeoutMs: 5_000, client }),
        );
      };
      await t.step("a revoked token", async () => {
        const { runner, collectors } = collect("proxmon@pve!agent=revoked");
        const fast = await collectors.fast(0);
        const apiErrors = fast.vms_runtime.errors.filter((e) =>
          e.tag === "pve_api"
        );
        assert.equal(apiErrors.length, 1);
        assert.match(
          apiErrors[0].message,
          /401 authentication failure \(check \[pve\] api_token\); this cycle uses pvesh/,
        );
        assert.equal(fast.vms_runtime.vms.length, 8, "data from pvesh");
        assert.ok(runner.calls.some((c) => c.startsWith("pvesh")));
      });
      await t.step("pveproxy down", async () => {
        const down = "https://127.0.0.1:9/api2/json";
        const { runner, collectors } = collect(TOKEN, down);
        const fast = await collectors.fast(0);
        assert.equal(
          fast.vms_runtime.errors.filter((e) => e.tag === "pve_api").length,
          1,
        );
        assert.equal(fast.storage.storages.length, 4);
        const calls = runner.calls.length;
        const again = await collectors.fast(10_000);
        assert.equal(
          again.vms_runtime.errors.filter((e) => e.tag === "pve_api").length,
          1,
        );
        assert.ok(
          runner.calls.length > calls,
          "pvesh again, after trying the API",
        );
      });
    } finally {
      client.close();
    }
  });
});
