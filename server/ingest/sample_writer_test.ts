import assert from "node:assert/strict";
import { systemClock } from "@proxmon/shared/clock";
import { createEventBus, type ServerEvent } from "./event_bus.ts";
import { createHost } from "../store/hosts.ts";
import { headSamples } from "../store/sample_store.ts";
import { createSampleWriter, type PendingSample } from "./sample_writer.ts";
import { sampleFixture } from "../testing/samples.ts";
import { openTempDatabase } from "../testing/temp_db.ts";

const AT = Date.UTC(2026, 3, 21, 12);
const slow = await sampleFixture("slow");

async function setup(window: { windowMs?: number; flushAt?: number } = {}) {
  const t = await openTempDatabase();
  const { host } = await createHost(t.database, "pve-01", AT);
  const events: ServerEvent[] = [];
  const bus = createEventBus();
  bus.subscribe((e) => events.push(e));
  const writer = createSampleWriter({
    database: t.database,
    clock: systemClock,
    events: bus,
    maxBatch: 100,
    ...window,
  });
  const pending = (i: number): PendingSample => ({
    hostId: host.id,
    hostName: host.name,
    interval: "slow",
    collectedAtMs: AT + i * 1000,
    data: slow,
  });
  return { t, writer, events, pending };
}

Deno.test("samples submitted together are committed in one transaction", async () => {
  const { t, writer, pending } = await setup();
  await using _ = t;
  const outcomes = await Promise.all(
    Array.from({ length: 50 }, (_, i) => writer.submit(pending(i))),
  );
  assert.deepEqual(outcomes, Array(50).fill("stored"));
  assert.equal(writer.stats().batches, 1);
  assert.equal((await headSamples(t.database)).length, 50);
});

Deno.test("a batch never holds more than maxBatch samples", async () => {
  const { t, writer, pending } = await setup();
  await using _ = t;
  await Promise.all(
    Array.from({ length: 250 }, (_, i) => writer.submit(pending(i))),
  );
  assert.equal(writer.stats().batches, 3);
  assert.equal((await headSamples(t.database)).length, 250);
});

Deno.test("submit() resolves only once the row can be read back", async () => {
  const { t, writer, pending } = await setup();
  await using _ = t;
  const outcome = await writer.submit(pending(0));
  assert.equal(outcome, "stored");
  assert.equal((await headSamples(t.database)).length, 1);
});

Deno.test("a duplicate in the same batch is stored once and reported as such", async () => {
  const { t, writer, pending } = await setup();
  await using _ = t;
  const outcomes = await Promise.all([
    writer.submit(pending(0)),
    writer.submit(pending(0)),
  ]);
  assert.deepEqual(outcomes, ["stored", "duplicate"]);
  assert.deepEqual(
    { stored: writer.stats().stored, duplicates: writer.stats().duplicates },
    { stored: 1, duplicates: 1 },
  );
});

Deno.test("a sample event is published after commit for stored samples only", async () => {
  const { t, writer, events, pending } = await setup();
  await using _ = t;
  await writer.submit(pending(0));
  await writer.submit(pending(0));
  assert.deepEqual(events, [{
    type: "sample",
    host: "pve-01",
    interval: "slow",
    collected_at: "2026-04-21T12:00:00.000Z",
  }]);
});

Deno.test("when the database fails, every sample of the batch is rejected, none acked", async () => {
  const { t, writer, pending } = await setup();
  await using _ = t;
  const waiting = [writer.submit(pending(0)), writer.submit(pending(1))];
  t.database.close();
  for (const p of waiting) await assert.rejects(p, /closed/);
  assert.equal(writer.stats().failed, 2);
});

Deno.test("close() commits what was queued and refuses what comes after", async () => {
  const { t, writer, pending } = await setup();
  await using _ = t;
  const queued = writer.submit(pending(0));
  await writer.close();
  assert.equal(await queued, "stored");
  await assert.rejects(writer.submit(pending(1)), /closed/);
  assert.equal((await headSamples(t.database)).length, 1);
});

Deno.test("with a commit window, samples that arrive apart share one commit, and a full window commits at once", async () => {
  const { t, writer, pending } = await setup({ windowMs: 1500, flushAt: 10 });
  await using _ = t;
  const { host: other } = await createHost(t.database, "pve-02", AT);
  const start = performance.now();
  const first = writer.submit(pending(0));
  await new Promise((r) => setTimeout(r, 50));
  const second = writer.submit({
    ...pending(1),
    hostId: other.id,
    hostName: other.name,
  });
  assert.deepEqual(await Promise.all([first, second]), ["stored", "stored"]);
  const waited = performance.now() - start;
  assert.equal(writer.stats().batches, 1, "one commit for both");
  assert.ok(waited >= 1400, `acked after the window (${waited.toFixed(0)} ms)`);
  // ten queued samples fill the window: no wait
  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: 10 }, (_, i) => createHost(t.database, `n${i}`, AT)),
  );
  await Promise.all(
    ids.map(({ host }, i) =>
      writer.submit({
        ...pending(10 + i),
        hostId: host.id,
        hostName: host.name,
      })
    ),
  );
  const quick = performance.now() - t0;
  assert.equal(writer.stats().batches, 2);
  assert.ok(
    quick < 250,
    `a full window commits at once (${quick.toFixed(0)} ms)`,
  );
  // a host that sends again before its ack is replaying: no wait
  const t2 = performance.now();
  const replay = [writer.submit(pending(40))];
  await new Promise((r) => setTimeout(r, 20));
  replay.push(writer.submit(pending(41)));
  assert.deepEqual(await Promise.all(replay), ["stored", "stored"]);
  assert.ok(
    performance.now() - t2 < 1000,
    `a replay is not held (${(performance.now() - t2).toFixed(0)} ms)`,
  );
  // flush() does not wait for the window either
  const late = writer.submit(pending(30));
  const t1 = performance.now();
  await writer.flush();
  assert.equal(await late, "stored");
  assert.ok(performance.now() - t1 < 1000);
  await writer.close();
});
