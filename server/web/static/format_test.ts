import assert from "node:assert/strict";
import {
  formatAgo,
  formatBytes,
  formatCount,
  formatDuration,
  formatNumber,
  formatPercent,
  formatRate,
} from "./format.js";

Deno.test("formatBytes() uses binary units with three significant digits", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.50 KiB");
  assert.equal(formatBytes(16 * 1024 ** 3), "16.0 GiB");
  assert.equal(formatBytes(512 * 1024 ** 4), "512 TiB");
  assert.equal(formatBytes(null), "–");
  assert.equal(formatBytes(Number.NaN), "–");
});

Deno.test("formatRate() appends per second, but not to a missing value", () => {
  assert.equal(formatRate(2048), "2.00 KiB/s");
  assert.equal(formatRate(null), "–");
});

Deno.test("formatPercent() keeps one decimal only below ten", () => {
  assert.equal(formatPercent(7.25), "7.3 %");
  assert.equal(formatPercent(82.4), "82 %");
  assert.equal(formatPercent(undefined), "–");
});

Deno.test("formatNumber() rounds load averages to two decimals", () => {
  assert.equal(formatNumber(0.456), "0.46");
  assert.equal(formatNumber(12), "12");
  assert.equal(formatNumber(null), "–");
});

Deno.test("formatDuration() and formatAgo() name the largest whole unit", () => {
  assert.equal(formatDuration(59), "59 s");
  assert.equal(formatDuration(90), "1 min");
  assert.equal(formatDuration(7200), "2 h");
  assert.equal(formatDuration(3 * 86400 + 5), "3 d");
  const now = 1_700_000_000_000;
  assert.equal(formatAgo(now - 3 * 86_400_000, now), "3 d ago");
  assert.equal(formatAgo(now - 1000, now), "just now");
  assert.equal(formatAgo(null, now), "never");
});

Deno.test("formatCount() says one host, not 1 hosts", () => {
  assert.equal(formatCount(1, "host"), "1 host");
  assert.equal(formatCount(0, "host"), "0 hosts");
  assert.equal(formatCount(3, "host"), "3 hosts");
  assert.equal(formatCount(2, "fix", "fixes"), "2 fixes");
});
