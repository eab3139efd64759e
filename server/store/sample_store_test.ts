import assert from "node:assert/strict";
import type { Interval, PayloadFor } from "@proxmon/shared";
import { createHost, findHost, rotateToken } from "./hosts.ts";
import { hashToken } from "../auth/token_hash.ts";
import {
  allSamples,
  deleteOlderThan,
  latestSample,
  latestSamplesByHost,
  recordSamples,
  type SampleInput,
} from "./sample_store.ts";
import { summarize } from "./summary.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { sampleFixture } from "../testing/samples.ts";

const NOW = Date.UTC(2026, 3, 21, 12);
const SEC = 1000;
const HOUR = 3600 * SEC;

async function setup() {
  const t = await openTempDatabase();
  const { host, token } = await createHost(t.database, "pve-01", NOW);
  return { t, host, token, database: t.database };
}

// TypeScript cannot see that `interval` picks the type of `data` here.
const input = <I extends Interval>(
  hostId: number,
  interval: I,
  offsetMs: number,
  data: PayloadFor<I>,
) => ({ hostId, interval, collectedAtMs: NOW + offsetMs, data }) as SampleInput;

Deno.test("recordSamples() inserts a metric row with the given payload", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const data = await sampleFixture("fast");
  const outcomes = await recordSamples(
    database,
    [input(host.id, "fast", 0, data)],
    NOW + 5,
  );
  assert.deepEqual(outcomes, ["stored"]);
  const [row] = await allSamples(database);
  assert.equal(row.hostId, host.id);
  assert.equal(row.interval, "fast");
  assert.deepEqual(row.payload, data);
  assert.equal(row.collectedAtMs, NOW);
  assert.equal(row.createdAtMs, NOW + 5);
});

Deno.test("recordSamples() stores the chart summary of a fast sample beside it", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const data = await sampleFixture("fast");
  await recordSamples(database, [input(host.id, "fast", 0, data)], NOW);
  const [row] = await allSamples(database);
  assert.deepEqual(row.summary, summarize({ interval: "fast", data }));
  assert.deepEqual((row.summary as { pools: object }).pools, {
    rpool: 21,
    tank: 62,
  });
});

Deno.test("recordSamples() rejects an unknown interval without touching the rest of the batch", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const slow = await sampleFixture("slow");
  const bad = { ...input(host.id, "slow", 0, slow), interval: "nope" };
  const outcomes = await recordSamples(
    database,
    [bad as SampleInput, input(host.id, "slow", 1, slow)],
    NOW,
  );
  assert.deepEqual(outcomes, ["invalid_interval", "stored"]);
  assert.equal((await allSamples(database)).length, 1);
});

Deno.test("recordSamples() rejects an unknown host id", async () => {
  const { t, database } = await setup();
  await using _ = t;
  const outcomes = await recordSamples(
    database,
    [input(999_999, "slow", 0, await sampleFixture("slow"))],
    NOW,
  );
  assert.deepEqual(outcomes, ["unknown_host"]);
  assert.equal((await allSamples(database)).length, 0);
});

Deno.test("recordSamples() stores a replayed sample once and reports the replay as duplicate", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const first = input(host.id, "slow", 0, await sampleFixture("slow"));
  const changed = input(host.id, "slow", 0, {
    ...await sampleFixture("slow"),
    extra: true,
  });
  assert.deepEqual(await recordSamples(database, [first], NOW), ["stored"]);
  assert.deepEqual(
    await recordSamples(database, [changed, first], NOW),
    ["duplicate", "duplicate"],
  );
  const rows = await allSamples(database);
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0].payload, first.data);
});

Deno.test("recordSamples() keeps (host, interval, collected_at) unique but allows the same instant for another interval", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const outcomes = await recordSamples(database, [
    input(host.id, "fast", 0, await sampleFixture("fast")),
    input(host.id, "medium", 0, await sampleFixture("medium")),
    input(host.id, "slow", 0, await sampleFixture("slow")),
  ], NOW);
  assert.deepEqual(outcomes, ["stored", "stored", "stored"]);
});

Deno.test("recordSamples() refuses a sample whose token hash no longer matches the host's", async () => {
  const { t, host, token, database } = await setup();
  await using _ = t;
  const slow = await sampleFixture("slow");
  const sent = {
    ...input(host.id, "slow", 0, slow),
    tokenHash: hashToken(token),
  };
  await rotateToken(database, "pve-01");
  assert.deepEqual(await recordSamples(database, [sent], NOW), [
    "token_changed",
  ]);
  assert.equal((await allSamples(database)).length, 0);
});

Deno.test("recordSamples() sets last_seen_at of the hosts it wrote for and of touched hosts", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const { host: idle } = await createHost(database, "pve-02", NOW);
  await recordSamples(
    database,
    [input(host.id, "slow", 0, await sampleFixture("slow"))],
    NOW + 42,
    [idle.id],
  );
  assert.equal((await findHost(database, "pve-01"))?.lastSeenAt, NOW + 42);
  assert.equal((await findHost(database, "pve-02"))?.lastSeenAt, NOW + 42);
});

Deno.test("latestSample() returns the most recent sample for a host and interval", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const slow = await sampleFixture("slow");
  const version = (v: string) => ({
    system_info: { ...slow.system_info, agent_version: v },
  });
  await recordSamples(database, [
    input(host.id, "slow", -60 * SEC, version("1")),
    input(host.id, "slow", -10 * SEC, version("3")),
    input(host.id, "slow", -30 * SEC, version("2")),
    input(host.id, "fast", 0, await sampleFixture("fast")),
  ], NOW);
  const latest = await latestSample(database, host.id, "slow");
  assert.deepEqual(latest?.payload, version("3"));
  assert.equal(latest?.collectedAtMs, NOW - 10 * SEC);
});

Deno.test("latestSample() returns null when no samples exist", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  assert.equal(await latestSample(database, host.id, "fast"), null);
});

Deno.test("latestSamplesByHost() gives each host's newest sample of one interval", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const { host: other } = await createHost(database, "pve-02", NOW);
  await createHost(database, "pve-03", NOW);
  const fast = await sampleFixture("fast");
  await recordSamples(database, [
    input(host.id, "fast", -20 * SEC, fast),
    input(host.id, "fast", -10 * SEC, fast),
    input(other.id, "fast", -5 * SEC, fast),
  ], NOW);
  const latest = await latestSamplesByHost(database, "fast");
  assert.deepEqual(
    [...latest].map(([id, s]) => [id, s.collectedAtMs]).sort(),
    [[host.id, NOW - 10 * SEC], [other.id, NOW - 5 * SEC]].sort(),
  );
});

Deno.test("deleteOlderThan() deletes samples with collected_at before the cutoff", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const slow = await sampleFixture("slow");
  await recordSamples(database, [
    input(host.id, "slow", -50 * HOUR, slow),
    input(host.id, "slow", -60 * SEC, slow),
  ], NOW);
  const deleted = await deleteOlderThan(database, NOW - 48 * HOUR);
  assert.equal(deleted, 1);
  const remaining = await allSamples(database);
  assert.deepEqual(remaining.map((r) => r.collectedAtMs), [NOW - 60 * SEC]);
});

Deno.test("deleteOlderThan() works through more rows than one batch and keeps the cutoff row", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const slow = await sampleFixture("slow");
  const old = Array.from(
    { length: 25 },
    (_, i) => input(host.id, "slow", -HOUR - i * SEC, slow),
  );
  await recordSamples(database, [
    ...old,
    input(host.id, "slow", -HOUR + 1, slow),
  ], NOW);
  await recordSamples(database, [
    input(host.id, "fast", -HOUR, await sampleFixture("fast")),
  ], NOW);
  const deleted = await deleteOlderThan(database, NOW - HOUR, 4);
  assert.equal(deleted, 24);
  assert.deepEqual(
    (await allSamples(database)).map((r) => r.collectedAtMs),
    [NOW - HOUR, NOW - HOUR, NOW - HOUR + 1],
  );
});
