import * as assert from "node:assert/strict";
import { addPoint, daysUntilFull, linearFit, type Point } from "./forecast.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** Hourly readings over `days` days on the line v = start + perDay·t. */
function line(start: number, perDay: number, days: number): Point[] {
  const out: Point[] = [];
  for (let h = 0; h <= days * 24; h++) {
    out.push({ t: T0 + h * 3_600_000, v: start + (perDay * h) / 24 });
  }
  return out;
}

Deno.test("linearFit() recovers the slope and value of an exact line", () => {
  const fit = linearFit(line(40, 2, 7), T0 + 7 * DAY)!;
  assert.ok(Math.abs(fit.slopePerDay - 2) < 1e-9);
  assert.ok(Math.abs(fit.valueAt - 54) < 1e-9);
});

Deno.test("daysUntilFull() on known histories", async (t) => {
  await t.step("2 %/day from 72 %: 86 % after 7 days, full in 7 days", () => {
    const days = daysUntilFull(line(72, 2, 7), T0 + 7 * DAY)!;
    assert.ok(Math.abs(days - 7) < 1e-6, `got ${days}`);
  });
  await t.step("0.5 %/day from 50 %: full in 93 days", () => {
    const days = daysUntilFull(line(50, 0.5, 7), T0 + 7 * DAY)!;
    assert.ok(Math.abs(days - 93) < 1e-6, `got ${days}`);
  });
  await t.step("flat and falling capacity never fill", () => {
    assert.equal(daysUntilFull(line(90, 0, 7), T0 + 7 * DAY), Infinity);
    assert.equal(daysUntilFull(line(90, -1, 7), T0 + 7 * DAY), Infinity);
  });
  await t.step("noise around a 1 %/day trend: full in about 20 days", () => {
    // deterministic ±3 % zig-zag around 73 → 80 over 7 days
    const pts = line(73, 1, 7).map((p, i) => ({
      ...p,
      v: p.v + (i % 2 ? 3 : -3),
    }));
    const days = daysUntilFull(pts, T0 + 7 * DAY)!;
    assert.ok(Math.abs(days - 20) < 0.5, `got ${days}`);
  });
  await t.step("one reading has no trend", () => {
    assert.equal(daysUntilFull([{ t: T0, v: 99 }], T0), null);
  });
});

Deno.test("addPoint() keeps one point per step and drops points past the window", () => {
  const w: Point[] = [];
  for (let m = 0; m <= 60; m++) {
    addPoint(w, { t: T0 + m * 60_000, v: m }, DAY, 5 * 60_000);
  }
  // 0,5,…,60 → 13 points, the last of each step's readings kept
  assert.equal(w.length, 13);
  assert.deepEqual(w.at(-1), { t: T0 + 60 * 60_000, v: 60 });
  addPoint(w, { t: T0 + DAY + 30 * 60_000, v: 1 }, DAY, 5 * 60_000);
  assert.ok(w[0].t >= T0 + 30 * 60_000);
  // an older reading (a replay) is ignored
  const len = w.length;
  addPoint(w, { t: T0, v: 5 }, DAY, 5 * 60_000);
  assert.equal(w.length, len);
});
