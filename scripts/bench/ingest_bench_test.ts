import assert from "node:assert/strict";
import { clearedAfterS } from "./ingest_bench.ts";
import type { TimelineStep } from "./load_fleet.ts";

const steps = (p99s: (number | null)[]): TimelineStep[] =>
  p99s.map((p99Ms, i) => ({
    atMs: i * 1000,
    sent: 1,
    acked: 1,
    p99Ms,
    maxMs: p99Ms,
  }));

Deno.test("clearedAfterS() is the start of the first second after the last one over the target", () => {
  assert.equal(
    clearedAfterS(steps([900, 400, 120, 300, 90, 80]), 6000, 250),
    4,
  );
  assert.equal(clearedAfterS(steps([90, 80]), 2000, 250), 0);
  // seconds with no samples do not count against it
  assert.equal(clearedAfterS(steps([900, null, 80]), 3000, 250), 1);
  // only the seconds before untilMs count
  assert.equal(clearedAfterS(steps([900, 80, 5000]), 2000, 250), 1);
});

Deno.test("clearedAfterS() is null when the last second missed the target", () => {
  assert.equal(clearedAfterS(steps([900, 80, 400]), 3000, 250), null);
});
