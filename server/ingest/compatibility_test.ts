/**
 * Every server must take what older agents send. The payloads of
 * fixtures/samples/v0.1/ are frozen; this test sends them, and partial
 * payloads an agent of another version might send, over a real socket to a
 * real server, and reads them back through the API and the host page.
 */
import assert from "node:assert/strict";
import { INTERVALS } from "@proxmon/shared";
import { startTestServer } from "../testing/test_server.ts";
import { TestAgent } from "../testing/test_agent.ts";

const FROZEN = ["v0.1"];
const FIXTURES = `${import.meta.dirname}/../../fixtures/samples`;

const frozen = async (version: string, interval: string) =>
  JSON.parse(
    await Deno.readTextFile(`${FIXTURES}/${version}/${interval}.json`),
  );

async function withServer(
  fn: (s: { url: string; agent: TestAgent }) => Promise<void>,
) {
  await using server = await startTestServer();
  const token = await server.register("pve-01");
  await using agent = await TestAgent.connect(server.wsUrl);
  assert.equal((await agent.join("pve-01", token)).type, "joined");
  await fn({ url: server.url, agent });
}

let ref = 0;
async function send(agent: TestAgent, interval: string, data: unknown) {
  const r = ref++;
  agent.send({
    type: "sample",
    ref: r,
    interval,
    collected_at: new Date(Date.now() - 1000 + r).toISOString(),
    data,
  });
  assert.deepEqual(await agent.next(), { type: "ack", ref: r });
}

const api = async (url: string) => {
  const res = await fetch(`${url}/api/hosts/pve-01`);
  assert.equal(res.status, 200);
  return await res.json();
};
const page = async (url: string) => {
  const res = await fetch(`${url}/hosts/pve-01`);
  assert.equal(res.status, 200);
  return await res.text();
};

for (const version of FROZEN) {
  Deno.test(`payloads of agent ${version} are acked, stored and shown`, async () => {
    await withServer(async ({ url, agent }) => {
      const sent: Record<string, Record<string, unknown>> = {};
      for (const interval of INTERVALS) {
        sent[interval] = await frozen(version, interval);
        await send(agent, interval, sent[interval]);
      }
      const body = await api(url);
      for (const interval of INTERVALS) {
        const stored = body.samples[interval]?.payload;
        assert.ok(stored, `${interval} sample in the API`);
        // Every field sent comes back as it was sent.
        for (const [key, value] of Object.entries(sent[interval])) {
          assert.deepEqual(
            withoutDefaults(stored[key], value),
            value,
            `${interval}.${key}`,
          );
        }
      }
      const html = await page(url);
      const fast = sent.fast as {
        zfs_pools: { pools: { name: string }[] };
        vms_runtime: { vms: { name: string }[] };
      };
      const slow = sent.slow as { system_info: { pve_version: string } };
      for (const pool of fast.zfs_pools.pools) {
        assert.match(html, new RegExp(`data-pool="${pool.name}"`));
      }
      for (const vm of fast.vms_runtime.vms) {
        assert.ok(html.includes(vm.name), vm.name);
      }
      assert.ok(html.includes(slow.system_info.pve_version));
    });
  });
}

/**
 * `stored` with only the keys of `sent` (recursively): what the server added
 * as defaults is not what this test compares.
 */
function withoutDefaults(stored: unknown, sent: unknown): unknown {
  if (Array.isArray(sent) && Array.isArray(stored)) {
    return stored.map((x, i) => withoutDefaults(x, sent[i]));
  }
  if (
    typeof sent === "object" && sent !== null && typeof stored === "object" &&
    stored !== null
  ) {
    return Object.fromEntries(
      Object.keys(sent).map((k) => [
        k,
        withoutDefaults(
          (stored as Record<string, unknown>)[k],
          (sent as Record<string, unknown>)[k],
        ),
      ]),
    );
  }
  return stored;
}

Deno.test("a fast sample whose host has only load1 is acked, stored and shown", async () => {
  await withServer(async ({ url, agent }) => {
    await send(agent, "fast", { host: { load1: 3.25 } });
    const body = await api(url);
    const stored = body.samples.fast.payload;
    assert.equal(stored.host.load1, 3.25);
    assert.equal(stored.host.load5, null);
    assert.equal(stored.host.mem_total_bytes, null);
    assert.deepEqual(stored.host.net, []);
    assert.deepEqual(stored.zfs_pools, { pools: [], errors: [] });
    const list = await (await fetch(`${url}/api/hosts`)).json();
    assert.equal(list.hosts[0].summary.mem_used_bytes, null);
    assert.equal(list.hosts[0].summary.guests_total, 0);
    const html = await page(url);
    assert.match(html, /Load 1\/5\/15<\/dt><dd>3\.25 – –/);
  });
});

Deno.test("a slow sample whose system_info has only pve_version is acked, stored and shown", async () => {
  await withServer(async ({ url, agent }) => {
    await send(agent, "slow", { system_info: { pve_version: "9.9.1" } });
    const stored = (await api(url)).samples.slow.payload;
    assert.equal(stored.system_info.pve_version, "9.9.1");
    assert.equal(stored.system_info.kernel, null);
    assert.equal(stored.system_info.zfs_kmod_version, null);
    assert.deepEqual(stored.system_info.errors, []);
    const html = await page(url);
    assert.match(html, /PVE version<\/dt><dd>9\.9\.1<\/dd>/);
  });
});

Deno.test("a wrong-typed field is stored as null, with a schema error the host page shows", async () => {
  await withServer(async ({ url, agent }) => {
    const fast = await frozen("v0.1", "fast");
    fast.host.load5 = "0.7";
    await send(agent, "fast", fast);
    const stored = (await api(url)).samples.fast.payload;
    assert.equal(stored.host.load5, null);
    assert.equal(stored.host.load1, fast.host.load1);
    const schema = stored.host.errors.filter((e: { tag: string }) =>
      e.tag === "schema"
    );
    assert.equal(schema.length, 1);
    assert.match(schema[0].message, /^host\.load5: /);
    const html = await page(url);
    assert.match(html, /<code>schema<\/code> host\.load5: /);
  });
});
