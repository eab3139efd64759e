import assert from "node:assert/strict";
import { buildNodeModel, datasetsAt, zfsHasJson } from "./node_model.ts";
import { loadNodeProfile, parseNodeProfile } from "./node_profile.ts";

const dir = `${import.meta.dirname}/profiles`;

Deno.test("every shipped profile loads and builds a node", async (t) => {
  for await (const entry of Deno.readDir(dir)) {
    await t.step(entry.name, async () => {
      const model = buildNodeModel(
        await loadNodeProfile(`${dir}/${entry.name}`),
      );
      assert.ok(model.guests.length > 0);
      assert.ok(model.pools.length > 0);
      assert.ok(datasetsAt(model, Date.now() / 1000).length > 0);
    });
  }
});

Deno.test("bench50 generates 50 guests with distinct vmids", async () => {
  const model = buildNodeModel(await loadNodeProfile(`${dir}/bench50.toml`));
  assert.equal(model.guests.length, 50);
  assert.equal(new Set(model.guests.map((g) => g.vmid)).size, 50);
  assert.equal(model.latencyMs, 300);
});

Deno.test("parseNodeProfile() names the bad key", () => {
  assert.throws(
    () =>
      parseNodeProfile(
        'node = "pve"\n[[pools]]\nname = "rpool"\ndisks = ["a", "b"]\nsize_gib = "big"\n',
      ),
    /Invalid node profile: pools\.0\.size_gib: /,
  );
  assert.throws(
    () => parseNodeProfile('node = "pve"\ncolour = "red"\n'),
    /colour/,
  );
  assert.throws(() => parseNodeProfile("node = "), /Invalid node profile/);
});

Deno.test("buildNodeModel() rejects a vmid used twice", () => {
  const profile = parseNodeProfile(
    'node = "pve"\n[[guests]]\nvmid = 100\ntype = "qemu"\nname = "a"\n[[guests]]\nvmid = 100\ntype = "lxc"\nname = "b"\n',
  );
  assert.throws(() => buildNodeModel(profile), /vmid 100 is used twice/);
});

Deno.test("zfsHasJson() is true from OpenZFS 2.3 on", () => {
  assert.deepEqual(
    ["2.2.7-pve2", "2.3.0", "2.3.4-pve1", "2.4.1", "3.0.0", "garbage"].map(
      zfsHasJson,
    ),
    [false, true, true, true, true, false],
  );
});

Deno.test("a degraded mirror makes its mirror, root and pool DEGRADED", async () => {
  const model = buildNodeModel(
    await loadNodeProfile(`${dir}/degraded_zfs23.toml`),
  );
  const tank = model.pools.find((p) => p.name === "tank")!;
  assert.equal(tank.state, "DEGRADED");
  assert.equal(tank.problem, "failing");
  assert.equal(tank.root.children[0].state, "DEGRADED");
  assert.deepEqual(tank.root.children[0].children.map((d) => d.state), [
    "ONLINE",
    "DEGRADED",
  ]);
});
