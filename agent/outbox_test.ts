import assert from "node:assert/strict";
import { memoryLogger } from "./log.ts";
import { Outbox, OutboxFileError, type OutboxSample } from "./outbox.ts";

function sample(i: number): OutboxSample {
  return {
    interval: "fast",
    collected_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    data: { i },
  };
}

const indexes = (outbox: Outbox) => outbox.samples().map((s) => s.data.i);

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

Deno.test("Outbox drops a nacked sample and logs the reason", () => {
  const log = memoryLogger();
  const outbox = new Outbox(10, log);
  outbox.add(sample(0));
  outbox.add(sample(1));
  assert.equal(
    outbox.nack(0, "invalid_payload", "fast payload: host: x"),
    true,
  );
  assert.equal(outbox.nack(0, "invalid_payload"), false);
  assert.deepEqual(indexes(outbox), [1]);
  assert.equal(outbox.stats.nacked, 1);
  assert.deepEqual(log.lines, [
    "warn: server refused fast sample from 2025-01-01T00:00:00.000Z " +
    "(invalid_payload: fast payload: host: x); dropped it",
  ]);
});

Deno.test("Outbox save() and load() round-trip every unacked sample", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state/outbox.json`;
    const outbox = new Outbox(10, memoryLogger());
    for (let i = 0; i < 4; i++) outbox.add(sample(i));
    outbox.ack(0);
    await outbox.save(path);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/state`)].map((e) => e.name),
      ["outbox.json"],
      "no temp file is left behind",
    );
    const loaded = await Outbox.load(path, 10, memoryLogger());
    assert.deepEqual(loaded.samples(), outbox.samples());
    assert.deepEqual(indexes(loaded), [1, 2, 3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Outbox.load() starts empty when there is no file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const loaded = await Outbox.load(`${dir}/none.json`, 10, memoryLogger());
    assert.equal(loaded.size, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Outbox.load() keeps the newest samples when the bound shrank", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const outbox = new Outbox(10, memoryLogger());
    for (let i = 0; i < 5; i++) outbox.add(sample(i));
    await outbox.save(`${dir}/o.json`);
    const loaded = await Outbox.load(`${dir}/o.json`, 2, memoryLogger());
    assert.deepEqual(indexes(loaded), [3, 4]);
    assert.equal(loaded.stats.dropped, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Outbox.load() names the file when it is damaged", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/o.json`;
    await t.step("not JSON", async () => {
      await Deno.writeTextFile(path, "{not json");
      const err = await Outbox.load(path, 10, memoryLogger()).then(
        () => assert.fail("accepted a broken file"),
        (e) => e,
      );
      assert.ok(err instanceof OutboxFileError);
      assert.match(err.message, new RegExp(`^${path}: not valid JSON: `));
    });
    await t.step("a sample with a bad interval", async () => {
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          format: "proxmon-outbox",
          version: 1,
          samples: [{ interval: "hourly", collected_at: "x", data: {} }],
        }),
      );
      const err = await Outbox.load(path, 10, memoryLogger()).then(
        () => assert.fail("accepted a bad sample"),
        (e) => e,
      );
      assert.ok(err instanceof OutboxFileError);
      assert.match(
        err.message,
        new RegExp(`^${path}: not a proxmon outbox: samples\\.0\\.interval: `),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
