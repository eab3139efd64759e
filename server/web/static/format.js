// @ts-check
/**
 * Human units for the dashboard. Plain JavaScript with JSDoc types, because
 * the server's views and the browser's chart script both import it: one copy
 * of each rule, in the only language a browser runs without a build step.
 */

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * Bytes in binary units with three significant digits: 1536 -> "1.50 KiB".
 * @param {number | null | undefined} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return "–";
  }
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const sign = bytes < 0 ? "-" : "";
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${BINARY_UNITS[unit]}`;
}

/**
 * A byte rate: 2048 -> "2.00 KiB/s".
 * @param {number | null | undefined} bytesPerSecond
 * @returns {string}
 */
export function formatRate(bytesPerSecond) {
  const text = formatBytes(bytesPerSecond);
  return text === "–" ? text : `${text}/s`;
}

/**
 * A percentage, whole above 10 and with one decimal below: 7.25 -> "7.3 %".
 * @param {number | null | undefined} percent
 * @returns {string}
 */
export function formatPercent(percent) {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) {
    return "–";
  }
  const digits = Math.abs(percent) >= 10 ? 0 : 1;
  return `${percent.toFixed(digits)} %`;
}

/**
 * A plain number with at most two decimals, for load averages.
 * @param {number | null | undefined} value
 * @returns {string}
 */
export function formatNumber(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return "–";
  }
  return String(Math.round(value * 100) / 100);
}

/**
 * A count with its noun, singular for one: (1, "host") -> "1 host",
 * (3, "host") -> "3 hosts".
 * @param {number} n
 * @param {string} one
 * @param {string} [many] the plural, when it is not `one` + "s"
 * @returns {string}
 */
export function formatCount(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A duration in its largest unit, whole: 90 -> "1 min", 3 * 86400 -> "3 d".
 * @param {number | null | undefined} seconds
 * @returns {string}
 */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return "–";
  }
  const s = Math.max(0, seconds);
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

/**
 * How long ago a moment was, relative to `nowMs`: "3 d ago", "just now".
 * @param {number | null | undefined} thenMs
 * @param {number} nowMs
 * @returns {string}
 */
export function formatAgo(thenMs, nowMs) {
  if (thenMs === null || thenMs === undefined || !Number.isFinite(thenMs)) {
    return "never";
  }
  const seconds = (nowMs - thenMs) / 1000;
  if (seconds < 5) return "just now";
  return `${formatDuration(seconds)} ago`;
}
