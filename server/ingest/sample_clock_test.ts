import assert from "node:assert/strict";
import { MAX_CLOCK_AHEAD_MS } from "@proxmon/shared";
import { sampleClockProblem } from "./sample_clock.ts";

const NOW = Date.UTC(2026, 11, 1, 12);
const HOUR = 3_600_000;

Deno.test("sampleClockProblem() allows up to 5 min ahead and back to the retention, and says why otherwise", () => {
  assert.equal(MAX_CLOCK_AHEAD_MS, 5 * 60_000);
  for (const at of [NOW, NOW + MAX_CLOCK_AHEAD_MS, NOW - 48 * HOUR]) {
    assert.equal(sampleClockProblem(at, NOW, 48), null);
  }
  assert.match(
    sampleClockProblem(NOW + MAX_CLOCK_AHEAD_MS + 1, NOW, 48) ?? "",
    /^collected_at is 300 s ahead of the server's clock \(2026-12-01T12:00:00\.000Z\); at most 300 s/,
  );
  assert.match(
    sampleClockProblem(Date.parse("9999-12-31T23:59:59.999Z"), NOW, 48) ?? "",
    /ahead of the server's clock/,
  );
  assert.match(
    sampleClockProblem(NOW - 48 * HOUR - 1, NOW, 48) ?? "",
    /older than the server keeps samples \(RETENTION_HOURS=48/,
  );
  assert.equal(sampleClockProblem(NOW - 71 * HOUR, NOW, 72), null);
});
