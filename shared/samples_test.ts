import assert from "node:assert/strict";
import * as v from "valibot";
import { INTERVALS, PAYLOAD_SCHEMAS } from "./samples.ts";

const FIXTURES = `${import.meta.dirname}/../fixtures/samples`;

async function fixture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(`${FIXTURES}/${name}.json`));
}

Deno.test("fixtures/samples/*.json pass the payload schema of their interval", async (t) => {
  for (const interval of INTERVALS) {
    await t.step(interval, async () => {
      const result = v.safeParse(
        PAYLOAD_SCHEMAS[interval],
        await fixture(interval),
      );
      assert.deepEqual(result.issues, undefined);
    });
  }
});

Deno.test("the fast fixture holds what the other tests rely on: a DEGRADED pool, an inactive storage, a template", async () => {
  const fast = await fixture("fast");
  const parsed = v.parse(PAYLOAD_SCHEMAS.fast, fast);
  assert.deepEqual(
    parsed.zfs_pools.pools.map((p) => [p.name, p.health]),
    [["rpool", "ONLINE"], ["tank", "DEGRADED"]],
  );
  assert.equal(parsed.storage.storages.length, 3);
  assert.ok(parsed.storage.storages.some((s) => !s.active));
  assert.ok(parsed.vms_runtime.vms.some((vm) => vm.template));
});

Deno.test("payload schemas keep fields they do not know, so a newer agent can talk to an older server", async () => {
  const slow = await fixture("slow");
  const newer = {
    ...slow,
    gpu: { count: 1 },
    system_info: { ...(slow.system_info as object), cpu_model: "EPYC" },
  };
  const parsed = v.parse(PAYLOAD_SCHEMAS.slow, newer) as Record<
    string,
    unknown
  >;
  assert.deepEqual(parsed.gpu, { count: 1 });
  assert.equal(
    (parsed.system_info as Record<string, unknown>).cpu_model,
    "EPYC",
  );
});

Deno.test("payload schemas accept null for numbers a collector could not read", async () => {
  const fast = await fixture("fast");
  const host = { ...(fast.host as object), cpu_percent: null, load1: null };
  assert.ok(v.is(PAYLOAD_SCHEMAS.fast, { ...fast, host }));
});

Deno.test("payload schemas give a missing collector and missing fields their defaults", async () => {
  const fast = await fixture("fast");
  const { storage: _, ...rest } = fast;
  const parsed = v.parse(PAYLOAD_SCHEMAS.fast, {
    ...rest,
    host: { load1: 0.5 },
  });
  assert.deepEqual(parsed.storage, { storages: [], errors: [] });
  assert.equal(parsed.host.load1, 0.5);
  assert.equal(parsed.host.load5, null);
  assert.deepEqual(parsed.host.net, []);
  assert.equal(parsed.host.root_fs, null);
});

Deno.test("payload schemas still refuse a wrong type, and what names a list item", async (t) => {
  const fast = await fixture("fast");
  const runtime = fast.vms_runtime as { vms: object[]; errors: [] };
  await t.step("vmid as a string", () => {
    const vms = [{ ...runtime.vms[0], vmid: "100" }];
    assert.equal(
      v.is(PAYLOAD_SCHEMAS.fast, { ...fast, vms_runtime: { ...runtime, vms } }),
      false,
    );
  });
  await t.step("no vmid", () => {
    const { vmid: _, ...guest } = runtime.vms[0] as { vmid: number };
    assert.equal(
      v.is(PAYLOAD_SCHEMAS.fast, {
        ...fast,
        vms_runtime: { ...runtime, vms: [guest] },
      }),
      false,
    );
  });
});
