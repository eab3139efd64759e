import assert from "node:assert/strict";
import {
  hosts as hostsTable,
  latestSamples,
  series,
  seriesHead,
  stateChanges,
} from "./schema.ts";
import {
  authenticateHost,
  createHost,
  findHost,
  HostError,
  listHosts,
  markAllOffline,
  markOffline,
  markOnline,
  removeHost,
  rotateToken,
  tokenHashes,
} from "./hosts.ts";
import { generateToken, hashToken, tokenMatches } from "../auth/token_hash.ts";
import { recordSamples } from "./sample_store.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { sampleFixture } from "../testing/samples.ts";

const NOW = Date.UTC(2026, 3, 21, 12);

Deno.test("generateToken() gives 32 random bytes as base64url, never the same twice", () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
});

Deno.test("hashToken() is hex SHA-256 and tokenMatches() accepts only the same token", () => {
  // SHA-256("abc") from FIPS 180-2
  assert.equal(
    hashToken("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  const stored = hashToken("secret");
  assert.equal(tokenMatches("secret", stored), true);
  assert.equal(tokenMatches("secreT", stored), false);
  assert.equal(tokenMatches("secret", "not-hex"), false);
});

Deno.test("createHost() stores only the token hash and returns the token once", async () => {
  await using t = await openTempDatabase();
  const { host, token } = await createHost(t.database, "pve-01", NOW);
  assert.equal(host.name, "pve-01");
  assert.equal(host.status, "offline");
  assert.equal(host.createdAt, NOW);
  const [row] = await t.database.db.select().from(hostsTable);
  assert.equal(row.tokenHash, hashToken(token));
  assert.ok(!JSON.stringify(row).includes(token));
});

Deno.test("createHost() refuses bad and duplicate names with a clear HostError", async (t) => {
  await using db = await openTempDatabase();
  await createHost(db.database, "pve-01", NOW);
  const cases: [string, string, RegExp][] = [
    ["pve-01", "duplicate", /already exists/],
    ["", "invalid_name", /must not be empty/],
    ["pve 01", "invalid_name", /letters, digits/],
    ["pve/01", "invalid_name", /letters, digits/],
    ["x".repeat(65), "invalid_name", /at most 64/],
  ];
  for (const [name, code, message] of cases) {
    await t.step(JSON.stringify(name), async () => {
      await assert.rejects(
        createHost(db.database, name, NOW),
        (err) =>
          err instanceof HostError && err.code === code &&
          message.test(err.message),
      );
    });
  }
  assert.equal((await listHosts(db.database)).length, 1);
});

Deno.test("listHosts() returns every host ordered by name", async () => {
  await using t = await openTempDatabase();
  for (const name of ["pve-02", "alpha", "pve-01"]) {
    await createHost(t.database, name, NOW);
  }
  assert.deepEqual(
    (await listHosts(t.database)).map((h) => h.name),
    ["alpha", "pve-01", "pve-02"],
  );
});

Deno.test("authenticateHost() accepts the right token and refuses a wrong token and an unknown host alike", async () => {
  await using t = await openTempDatabase();
  const { host, token } = await createHost(t.database, "pve-01", NOW);
  assert.equal(
    (await authenticateHost(t.database, "pve-01", token))?.id,
    host.id,
  );
  assert.equal(await authenticateHost(t.database, "pve-01", "wrong"), null);
  assert.equal(await authenticateHost(t.database, "pve-99", token), null);
});

Deno.test("rotateToken() makes the old token fail and the new one work", async () => {
  await using t = await openTempDatabase();
  const { token: old } = await createHost(t.database, "pve-01", NOW);
  const fresh = await rotateToken(t.database, "pve-01");
  assert.notEqual(fresh, old);
  assert.equal(await authenticateHost(t.database, "pve-01", old), null);
  assert.ok(await authenticateHost(t.database, "pve-01", fresh));
  await assert.rejects(
    rotateToken(t.database, "nope"),
    (err) => err instanceof HostError && err.code === "not_found",
  );
});

Deno.test("removeHost() deletes the host and, by cascade, its metrics", async () => {
  await using t = await openTempDatabase();
  const slow = await sampleFixture("slow");
  const { host } = await createHost(t.database, "pve-01", NOW);
  const { host: other } = await createHost(t.database, "pve-02", NOW);
  await recordSamples(t.database, [
    { hostId: host.id, interval: "slow", collectedAtMs: NOW, data: slow },
    { hostId: other.id, interval: "slow", collectedAtMs: NOW, data: slow },
  ], NOW);
  await removeHost(t.database, "pve-01");
  assert.equal(await findHost(t.database, "pve-01"), null);
  for (const table of [seriesHead, latestSamples, series, stateChanges]) {
    const left = await t.database.db.select().from(table);
    assert.deepEqual([...new Set(left.map((m) => m.hostId))], [other.id]);
  }
  await assert.rejects(
    removeHost(t.database, "pve-01"),
    (err) => err instanceof HostError && err.code === "not_found",
  );
});

Deno.test("markOnline()/markOffline()/markAllOffline() keep status, agent version and last_seen_at", async () => {
  await using t = await openTempDatabase();
  const { host } = await createHost(t.database, "pve-01", NOW);
  await markOnline(t.database, host.id, "0.2.0", NOW + 1000);
  let row = await findHost(t.database, "pve-01");
  assert.equal(row?.status, "online");
  assert.equal(row?.agentVersion, "0.2.0");
  assert.equal(row?.lastSeenAt, NOW + 1000);
  await markOffline(t.database, host.id, NOW + 2000);
  row = await findHost(t.database, "pve-01");
  assert.equal(row?.status, "offline");
  assert.equal(row?.lastSeenAt, NOW + 2000);
  await markOnline(t.database, host.id, "0.2.0", NOW + 3000);
  await markAllOffline(t.database);
  assert.equal((await findHost(t.database, "pve-01"))?.status, "offline");
});

Deno.test("tokenHashes() reports current hashes and leaves out removed hosts", async () => {
  await using t = await openTempDatabase();
  const { host, token } = await createHost(t.database, "pve-01", NOW);
  const hashes = await tokenHashes(t.database, [host.id, 999]);
  assert.deepEqual([...hashes], [[host.id, hashToken(token)]]);
  assert.equal((await tokenHashes(t.database, [])).size, 0);
});
