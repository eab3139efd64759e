import assert from "node:assert/strict";
import { fakeClock } from "./testing/fake_clock.ts";
import { withTimeout } from "./timeout.ts";

Deno.test("withTimeout() gives the work's value when it settles first", async () => {
  const clock = fakeClock();
  const result = withTimeout(
    Promise.resolve("done"),
    1000,
    () => "late",
    clock,
  );
  assert.equal(await result, "done");
  assert.equal(clock.pending(), 0);
});

Deno.test("withTimeout() gives onTimeout()'s value once the clock passes the deadline", async () => {
  const clock = fakeClock();
  const never = new Promise<string>(() => {});
  const result = withTimeout(never, 1000, () => "late", clock);
  await clock.advance(999);
  let settled = false;
  result.then(() => settled = true);
  await clock.advance(0);
  assert.equal(settled, false);
  await clock.advance(1);
  assert.equal(await result, "late");
});

Deno.test("withTimeout() rejects with what onTimeout() throws", async () => {
  const clock = fakeClock();
  const result = withTimeout(new Promise(() => {}), 10, () => {
    throw new Error("still open after 10 ms");
  }, clock);
  const rejected = assert.rejects(result, /still open after 10 ms/);
  await clock.advance(10);
  await rejected;
});
