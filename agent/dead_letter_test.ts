import assert from "node:assert/strict";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { memoryLogger } from "@proxmon/shared/logger";
import { deadLetterPath, DeadLetters, readDeadLetters } from "./dead_letter.ts";
import type { OutboxSample } from "./outbox.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

const sample = (i: number, pad = 0): OutboxSample => ({
  interval: "fast",
  collected_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
  data: { i, pad: "x".repeat(pad) },
});

Deno.test("deadLetterPath() puts the file beside the outbox", () => {
  assert.equal(
    deadLetterPath("/var/lib/proxmon/outbox.json"),
    "/var/lib/proxmon/outbox.dead_letters.jsonl",
  );
  assert.equal(deadLetterPath("/tmp/queue"), "/tmp/queue.dead_letters.jsonl");
});

Deno.test("DeadLetters keeps each refused sample with its reason and time, across restarts", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const path = `${dir}/outbox.dead_letters.jsonl`;
  const clock = fakeClock(Date.UTC(2026, 3, 21, 12));
  const first = new DeadLetters(path, memoryLogger(), clock);
  first.record(sample(0), "invalid_payload", "data must be a JSON object");
  await first.flushed();
  const second = new DeadLetters(path, memoryLogger(), clock);
  second.record(sample(1), "invalid_interval");
  await second.flushed();
  assert.deepEqual(await readDeadLetters(path), [
    {
      refused_at: "2026-04-21T12:00:00.000Z",
      reason: "invalid_payload",
      message: "data must be a JSON object",
      ...sample(0),
    },
    {
      refused_at: "2026-04-21T12:00:00.000Z",
      reason: "invalid_interval",
      ...sample(1),
    },
  ]);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
});

Deno.test("DeadLetters stays within its bound, keeping the newest samples", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const path = `${dir}/dl.jsonl`;
  const log = memoryLogger();
  const letters = new DeadLetters(path, log, fakeClock(0), 10_000);
  for (let i = 0; i < 100; i++) letters.record(sample(i, 500), "x");
  // one sample too big to keep beside others: kept without its data
  letters.record(sample(100, 20_000), "too_big");
  await letters.flushed();
  const size = (await Deno.stat(path)).size;
  assert.ok(size <= 10_000, `${size} bytes`);
  const kept = await readDeadLetters(path);
  assert.ok(kept.length >= 5, `${kept.length} kept`);
  const last = kept[kept.length - 1];
  assert.equal(last.reason, "too_big");
  assert.equal(last.data, null);
  const seen = kept.slice(0, -1).map((l) => (l.data as { i: number }).i);
  assert.deepEqual(seen, seen.map((_, k) => 100 - seen.length + k));
  assert.equal(letters.count, 101);
  assert.match(log.lines[100], /\(101 refused since start\)$/);
});
