import assert from "node:assert/strict";
import { fakeClock } from "./testing/fake_clock.ts";
import { startPeriodic } from "./periodic.ts";

Deno.test("startPeriodic() runs after the first delay, then every interval", async () => {
  const clock = fakeClock();
  const runs: number[] = [];
  const p = startPeriodic({
    clock,
    intervalMs: 100,
    firstDelayMs: 0,
    run: () => Promise.resolve(void runs.push(clock.now())),
    onError: () => {},
  });
  await clock.advance(0);
  await clock.advance(100);
  await clock.advance(100);
  assert.deepEqual(runs, [0, 100, 200]);
  await p.stop();
  await clock.advance(500);
  assert.deepEqual(runs, [0, 100, 200]);
  assert.equal(clock.pending(), 0);
});

Deno.test("startPeriodic() never overlaps a slow run and keeps going after a failure", async () => {
  const clock = fakeClock();
  const errors: string[] = [];
  let started = 0;
  let release = () => {};
  const p = startPeriodic({
    clock,
    intervalMs: 10,
    run: () => {
      started++;
      if (started === 1) return Promise.reject(new Error("disk full"));
      return new Promise<void>((resolve) => release = resolve);
    },
    onError: (err) => errors.push((err as Error).message),
  });
  await clock.advance(10);
  assert.deepEqual(errors, ["disk full"]);
  await clock.advance(10);
  assert.equal(started, 2);
  await clock.advance(100);
  assert.equal(started, 2, "a run still in progress holds the next one back");
  const stopped = p.stop();
  release();
  await stopped;
  assert.equal(clock.pending(), 0);
});
