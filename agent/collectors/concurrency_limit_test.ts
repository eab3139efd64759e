import assert from "node:assert/strict";
import { fakeRunner } from "../testing/fake_runner.ts";
import { createLimiter, limitRunner, mapPool } from "./concurrency_limit.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task` and records how many tasks were in flight at most. */
function gauge() {
  let now = 0;
  let max = 0;
  return {
    max: () => max,
    async track<T>(task: () => Promise<T>): Promise<T> {
      now++;
      max = Math.max(max, now);
      try {
        return await task();
      } finally {
        now--;
      }
    },
  };
}

Deno.test("mapPool() keeps at most `limit` calls in flight and the results in input order", async () => {
  const g = gauge();
  const items = [5, 1, 4, 2, 3, 1, 2, 5, 1, 3];
  const out = await mapPool(
    items,
    3,
    (ms) => g.track(() => tick(ms).then(() => ms * 10)),
  );
  assert.deepEqual(out, items.map((ms) => ms * 10));
  assert.equal(g.max(), 3);
});

Deno.test("mapPool() handles no items and a limit above the item count", async () => {
  assert.deepEqual(await mapPool([], 4, () => Promise.resolve(1)), []);
  assert.deepEqual(await mapPool([1, 2], 10, (x) => Promise.resolve(x + 1)), [
    2,
    3,
  ]);
});

Deno.test("createLimiter() never exceeds its limit, even when a task fails", async () => {
  const limit = createLimiter(2);
  const g = gauge();
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) =>
      limit(() =>
        g.track(async () => {
          await tick(i % 3);
          if (i === 2) throw new Error("boom");
          return i;
        })
      )),
  );
  assert.equal(g.max(), 2);
  assert.equal(results.filter((r) => r.status === "rejected").length, 1);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 7);
});

Deno.test("limitRunner() shares one limit across all commands through it", async () => {
  const g = gauge();
  const inner = fakeRunner({ "echo hi": "hi\n" });
  const slow = {
    run: (cmd: string, args: string[]) =>
      g.track(() => tick(2).then(() => inner.run(cmd, args))),
  };
  const runner = limitRunner(slow, 2);
  const results = await Promise.all(
    Array.from({ length: 6 }, () => runner.run("echo", ["hi"])),
  );
  assert.ok(results.every((r) => r.ok));
  assert.equal(g.max(), 2);
  assert.equal(inner.calls.length, 6);
});
