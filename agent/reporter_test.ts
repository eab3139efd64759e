import assert from "node:assert/strict";
import type { Interval } from "@proxmon/shared";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { memoryLogger } from "@proxmon/shared/logger";
import type { OutboxSample } from "./outbox.ts";
import { type CollectFns, createReporter } from "./reporter.ts";

const INTERVALS_MS = { fast: 10_000, medium: 60_000, slow: 1_800_000 };
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

/** Collect functions that answer at once with the interval and the time. */
function instantCollect(calls: [Interval, number][]): CollectFns {
  const make = (interval: Interval) => (nowMs: number) => {
    calls.push([interval, nowMs]);
    return Promise.resolve({ interval, nowMs });
  };
  return { fast: make("fast"), medium: make("medium"), slow: make("slow") };
}

/**
 * A started reporter on a fake clock at T0: its collect functions answer
 * at once (noted in `calls`) unless `collect` replaces them; its samples
 * go to `samples` and its log to `log`.
 */
function startReporter(collect: Partial<CollectFns> = {}) {
  const clock = fakeClock(T0);
  const log = memoryLogger();
  const calls: [Interval, number][] = [];
  const samples: OutboxSample[] = [];
  const reporter = createReporter({
    collect: { ...instantCollect(calls), ...collect },
    intervalsMs: INTERVALS_MS,
    clock,
    onSample: (s) => samples.push(s),
    log,
  });
  reporter.start();
  return { clock, log, calls, samples, reporter };
}

Deno.test("createReporter() collects each interval at start and then on its schedule", async () => {
  const { clock, calls, samples, reporter } = startReporter();
  await clock.advance(60_000);
  const at = (ms: number) => T0 + ms;
  assert.deepEqual(calls, [
    ["fast", at(0)],
    ["medium", at(0)],
    ["slow", at(0)],
    ["fast", at(10_000)],
    ["fast", at(20_000)],
    ["fast", at(30_000)],
    ["fast", at(40_000)],
    ["fast", at(50_000)],
    // Same due time: the earlier-set timer fires first, as real timers do.
    ["medium", at(60_000)],
    ["fast", at(60_000)],
  ]);
  assert.deepEqual(samples[3], {
    interval: "fast",
    collected_at: "2025-06-01T12:00:10.000Z",
    data: { interval: "fast", nowMs: at(10_000) },
  });
  assert.equal(samples.length, calls.length);
  assert.deepEqual(reporter.stats.fast, { runs: 7, skipped: 0, failed: 0 });
  await reporter.stop();
  assert.equal(clock.pending(), 0, "stop() clears every timer");
});

Deno.test("createReporter() skips and counts a tick while the previous cycle still runs", async () => {
  let active = 0;
  let maxActive = 0;
  let release: () => void = () => {};
  const slowFast = (nowMs: number) => {
    active++;
    maxActive = Math.max(maxActive, active);
    return new Promise<Record<string, unknown>>((resolve) => {
      release = () => {
        active--;
        resolve({ nowMs });
      };
    });
  };
  const { clock, log, samples, reporter } = startReporter({ fast: slowFast });
  await clock.advance(35_000); // ticks at 10, 20 and 30 s find it running
  assert.equal(maxActive, 1, "the fast cycle never overlaps itself");
  assert.deepEqual(reporter.stats.fast, { runs: 0, skipped: 3, failed: 0 });
  assert.deepEqual(log.lines, [
    "warn: fast cycle still running after 10 s; skipped this tick (1 skipped since start)",
    "warn: fast cycle still running after 10 s; skipped this tick (2 skipped since start)",
    "warn: fast cycle still running after 10 s; skipped this tick (3 skipped since start)",
  ]);
  release();
  await clock.advance(5_000); // the 40 s tick starts a new cycle
  assert.deepEqual(reporter.stats.fast, { runs: 1, skipped: 3, failed: 0 });
  assert.equal(active, 1);
  const fastAt = samples.filter((s) => s.interval === "fast").map((s) =>
    s.collected_at
  );
  assert.deepEqual(fastAt, ["2025-06-01T12:00:00.000Z"]);
  release();
  await reporter.stop();
});

Deno.test("createReporter() logs a throwing cycle and keeps the schedule", async () => {
  let n = 0;
  const flaky = (nowMs: number) =>
    n++ === 0
      ? Promise.reject(new TypeError("boom"))
      : Promise.resolve({ nowMs });
  const { clock, log, samples, reporter } = startReporter({ fast: flaky });
  await clock.advance(10_000);
  assert.deepEqual(reporter.stats.fast, { runs: 1, skipped: 0, failed: 1 });
  assert.equal(log.lines.length, 1);
  assert.match(log.lines[0], /^error: fast cycle failed: TypeError: boom/);
  assert.deepEqual(
    samples.filter((s) => s.interval === "fast").map((s) => s.collected_at),
    ["2025-06-01T12:00:10.000Z"],
  );
  await reporter.stop();
});

Deno.test("createReporter() stop() waits for a running cycle and delivers its sample", async () => {
  let release: () => void = () => {};
  const { clock, samples, reporter } = startReporter({
    slow: (nowMs) =>
      new Promise((resolve) => (release = () => resolve({ nowMs }))),
  });
  let stopped = false;
  const stopping = reporter.stop().then(() => (stopped = true));
  await clock.advance(20_000);
  assert.equal(stopped, false);
  assert.equal(samples.length, 2, "no fast tick after stop()");
  release();
  await stopping;
  assert.deepEqual(samples.map((s) => s.interval), ["fast", "medium", "slow"]);
});

Deno.test("createReporter() skips ahead after a stall instead of firing a burst", async () => {
  const { clock, calls, reporter } = startReporter();
  // The machine sleeps for 105 s: every timer is overdue when it wakes.
  clock.jump(105_000);
  await clock.advance(0);
  const fast = calls.filter(([i]) => i === "fast").map(([, t]) => t - T0);
  assert.deepEqual(fast, [0, 105_000]);
  await reporter.stop();
});
