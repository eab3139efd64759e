import assert from "node:assert/strict";
import { memoryLogger } from "@proxmon/shared/logger";
import { Outbox } from "./outbox.ts";
import { indexes, sample } from "./testing/outbox_samples.ts";

Deno.test("Outbox keeps samples in order until each is acked", () => {
  const outbox = new Outbox(10, memoryLogger());
  const seqs = [0, 1, 2, 3].map((i) => outbox.add(sample(i)));
  assert.deepEqual(seqs, [0, 1, 2, 3]);
  assert.equal(outbox.ack(2), true);
  assert.equal(outbox.ack(2), false, "a second ack of the same seq is a no-op");
  assert.deepEqual(indexes(outbox), [0, 1, 3]);
  assert.equal(outbox.stats.acked, 1);
});

Deno.test("Outbox.pending() returns entries after a seq, oldest first, up to a limit", () => {
  const outbox = new Outbox(10, memoryLogger());
  for (let i = 0; i < 6; i++) outbox.add(sample(i));
  outbox.ack(3);
  assert.deepEqual(
    outbox.pending(1, 2).map((e) => [e.seq, e.data.i]),
    [[2, 2], [4, 4]],
  );
  assert.deepEqual(outbox.pending(-1, 100).map((e) => e.seq), [0, 1, 2, 4, 5]);
});

Deno.test("Outbox drops the oldest sample when full, counts and logs it", () => {
  const log = memoryLogger();
  const outbox = new Outbox(3, log);
  for (let i = 0; i < 5; i++) outbox.add(sample(i));
  assert.deepEqual(indexes(outbox), [2, 3, 4]);
  assert.equal(outbox.stats.dropped, 2);
  assert.deepEqual(log.lines, [
    "warn: outbox full (3 samples): dropped the oldest, a fast sample from " +
    "2025-01-01T00:00:00.000Z; 1 dropped since start",
  ]);
});

Deno.test("Outbox logs drops sparsely during a long outage", () => {
  const log = memoryLogger();
  const outbox = new Outbox(1, log);
  for (let i = 0; i < 251; i++) outbox.add(sample(i));
  assert.equal(outbox.stats.dropped, 250);
  assert.equal(log.lines.length, 3, "the 1st, 100th and 200th drop");
});

Deno.test("Outbox removes a nacked sample and hands it back for the dead letters", () => {
  const log = memoryLogger();
  const outbox = new Outbox(10, log);
  outbox.add(sample(0));
  outbox.add(sample(1));
  assert.deepEqual(outbox.nack(0), sample(0));
  assert.equal(outbox.nack(0), undefined);
  assert.deepEqual(indexes(outbox), [1]);
  assert.equal(outbox.stats.nacked, 1);
});
