import assert from "node:assert/strict";
import { parsePayload, SCHEMA_ERROR_TAG } from "./payload_parser.ts";

const FIXTURES = `${import.meta.dirname}/../fixtures/samples`;
const fixture = async (name: string) =>
  JSON.parse(await Deno.readTextFile(`${FIXTURES}/${name}.json`));

const schemaErrors = (errors: { tag: string; message: string }[]) =>
  errors.filter((e) => e.tag === SCHEMA_ERROR_TAG).map((e) => e.message);

Deno.test("parsePayload() refuses only a data that is not an object", () => {
  for (const data of [null, 3, "fast", [], [{}], true]) {
    const parsed = parsePayload("fast", data);
    assert.equal(parsed.ok, false, JSON.stringify(data));
  }
  assert.equal(parsePayload("fast", {}).ok, true);
});

Deno.test("parsePayload() stores a wrong-typed field as null and names it in that collector's errors", async () => {
  const fast = await fixture("fast");
  const data = {
    ...fast,
    host: { ...fast.host, load5: "0.7", swap_used_bytes: {} },
    zfs_pools: {
      ...fast.zfs_pools,
      pools: [{ ...fast.zfs_pools.pools[0], capacity_percent: "21%" }],
    },
  };
  const before = JSON.stringify(data);
  const parsed = parsePayload("fast", data);
  assert.ok(parsed.ok);
  assert.equal(JSON.stringify(data), before, "the input is not modified");
  const { host, zfs_pools, storage } = parsed.payload;
  assert.equal(host.load5, null);
  assert.equal(host.swap_used_bytes, null);
  assert.equal(host.load1, fast.host.load1);
  assert.deepEqual(schemaErrors(host.errors).map((m) => m.split(":")[0]), [
    "host.load5",
    "host.swap_used_bytes",
  ]);
  assert.equal(zfs_pools.pools[0].capacity_percent, null);
  assert.equal(zfs_pools.pools[0].name, fast.zfs_pools.pools[0].name);
  assert.match(
    schemaErrors(zfs_pools.errors)[0],
    /^zfs_pools\.pools\.0\.capacity_percent: .*stored as its default/,
  );
  assert.deepEqual(schemaErrors(storage.errors), []);
});

Deno.test("parsePayload() drops a list item without what names it, and says so once", async () => {
  const fast = await fixture("fast");
  const [first, second, ...rest] = fast.vms_runtime.vms;
  const data = {
    ...fast,
    vms_runtime: {
      ...fast.vms_runtime,
      vms: [{ ...first, vmid: "one hundred" }, second, 42, ...rest],
    },
  };
  const parsed = parsePayload("fast", data);
  assert.ok(parsed.ok);
  const { vms, errors } = parsed.payload.vms_runtime;
  assert.deepEqual(
    vms.map((g) => g.vmid),
    [second, ...rest].map((g: { vmid: number }) => g.vmid),
  );
  const notes = schemaErrors(errors);
  assert.equal(notes.length, 2, notes.join("\n"));
  assert.match(notes[0], /^vms_runtime\.vms\.0\.vmid: .*item dropped/);
  assert.match(notes[1], /^vms_runtime\.vms\.2: .*item dropped/);
});

Deno.test("parsePayload() keeps unknown fields at every level", async () => {
  const slow = await fixture("slow");
  const parsed = parsePayload("slow", {
    ...slow,
    gpu: { count: 1 },
    system_info: { ...slow.system_info, cpu_model: "EPYC" },
  });
  assert.ok(parsed.ok);
  const out = parsed.payload as Record<string, unknown>;
  assert.deepEqual(out.gpu, { count: 1 });
  assert.equal(parsed.payload.system_info.cpu_model, "EPYC");
});

Deno.test("parsePayload() replaces a collector of the wrong type by its defaults and notes it there", () => {
  const parsed = parsePayload("slow", { system_info: "9.1.6" });
  assert.ok(parsed.ok);
  const info = parsed.payload.system_info;
  assert.equal(info.pve_version, null);
  assert.equal(info.zfs_kmod_version, null);
  assert.deepEqual(schemaErrors(info.errors).map((m) => m.split(":")[0]), [
    "system_info",
  ]);
});
