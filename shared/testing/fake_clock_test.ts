import assert from "node:assert/strict";
import { fakeClock } from "./fake_clock.ts";

Deno.test("fakeClock() runs due timers in time order when advanced", async () => {
  const clock = fakeClock(1000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
  clock.setTimeout(() => fired.push("late"), 500);
  await clock.advance(250);
  assert.deepEqual(fired, ["a@1100", "b@1200"]);
  assert.equal(clock.now(), 1250);
  assert.equal(clock.pending(), 1);
});

Deno.test("fakeClock() fires timers scheduled by timers within the same advance", async () => {
  const clock = fakeClock(0);
  const fired: number[] = [];
  const tick = () => {
    fired.push(clock.now());
    clock.setTimeout(tick, 10);
  };
  clock.setTimeout(tick, 10);
  await clock.advance(35);
  assert.deepEqual(fired, [10, 20, 30]);
});

Deno.test("fakeClock() never fires a cleared timer", async () => {
  const clock = fakeClock(0);
  let fired = false;
  const id = clock.setTimeout(() => fired = true, 10);
  clock.clearTimeout(id);
  await clock.advance(100);
  assert.equal(fired, false);
});
