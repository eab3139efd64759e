import assert from "node:assert/strict";
import { createCheckpoint } from "./checkpoint.ts";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { memoryLogger } from "@proxmon/shared/logger";
import { Outbox } from "./outbox.ts";
import { OutboxFile } from "./outbox_file.ts";

const sample = (i: number) => ({
  interval: "fast" as const,
  collected_at: new Date(i * 1000).toISOString(),
  data: { i },
});

async function setup() {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/outbox.json`;
  const log = memoryLogger();
  const outbox = new Outbox(100, log);
  const clock = fakeClock();
  let saves = 0;
  const checkpoint = createCheckpoint({
    outbox,
    save: async () => {
      saves++;
      await new OutboxFile(path).rewrite(outbox);
    },
    clock,
    intervalMs: 60_000,
    log,
  });
  return { dir, path, outbox, clock, checkpoint, log, saves: () => saves };
}

Deno.test("checkpoint saves unacked samples on its timer, so a crash loses at most one interval", async () => {
  const t = await setup();
  t.checkpoint.start();
  t.outbox.add(sample(1));
  t.outbox.add(sample(2));
  await t.clock.advance(59_000);
  assert.equal(t.saves(), 0);
  await t.clock.advance(1_000);
  assert.equal(t.saves(), 1);
  await t.checkpoint.stop(); // waits for the write in progress
  const reloaded = await new OutboxFile(t.path).load(100, t.log);
  assert.deepEqual(reloaded.samples(), [sample(1), sample(2)]);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("checkpoint writes nothing while the outbox drains between ticks", async () => {
  const t = await setup();
  t.checkpoint.start();
  for (let i = 0; i < 5; i++) {
    const seq = t.outbox.add(sample(i));
    t.outbox.ack(seq);
    await t.clock.advance(60_000);
  }
  assert.equal(t.saves(), 0);
  await t.checkpoint.stop();
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("checkpoint saves once more when the backlog empties, so acked samples are not replayed after a crash", async () => {
  const t = await setup();
  t.checkpoint.start();
  const seq = t.outbox.add(sample(1));
  await t.clock.advance(60_000);
  assert.equal(t.saves(), 1);
  await t.checkpoint.idle(); // the write itself is real file I/O
  t.outbox.ack(seq);
  await t.clock.advance(60_000);
  assert.equal(t.saves(), 2);
  await t.checkpoint.idle();
  await t.clock.advance(120_000);
  assert.equal(t.saves(), 2, "no change, no write");
  await t.checkpoint.stop();
  assert.equal((await new OutboxFile(t.path).load(100, t.log)).size, 0);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("checkpoint logs a failed save and tries again on the next tick", async () => {
  const t = await setup();
  let fail = true;
  const checkpoint = createCheckpoint({
    outbox: t.outbox,
    save: () =>
      fail
        ? Promise.reject(new Error("disk full"))
        : new OutboxFile(t.path).rewrite(t.outbox),
    clock: t.clock,
    intervalMs: 1_000,
    log: t.log,
  });
  checkpoint.start();
  t.outbox.add(sample(1));
  await t.clock.advance(1_000);
  assert.ok(t.log.lines.some((l) => l.includes("disk full")));
  fail = false;
  await t.clock.advance(1_000);
  await checkpoint.stop();
  assert.equal((await new OutboxFile(t.path).load(100, t.log)).size, 1);
  await Deno.remove(t.dir, { recursive: true });
});
