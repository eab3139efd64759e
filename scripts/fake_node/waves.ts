/**
 * Deterministic "live" values for the simulated node. Every value is a pure
 * function of a seed and a time, so separate tool processes and the /proc
 * writer agree without sharing state, and counters only ever grow.
 */

/** A stable 32-bit hash of a string (FNV-1a). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A stable fraction in [0, 1) for a string. */
export function unit(text: string): number {
  return hash32(text) / 0x1_0000_0000;
}

/** A stable unsigned 64-bit id (a ZFS GUID) for a string. */
export function guid64(text: string): bigint {
  const hi = BigInt(hash32(`hi:${text}`));
  const lo = BigInt(hash32(`lo:${text}`));
  const value = (hi << 32n) | lo;
  return value === 0n ? 1n : value;
}

// Hashing the seeds was most of the cost of a /proc tree, and the demo's
// backfill builds thousands; a seed always stands for the same wave.
const waves = new Map<string, { period: number; phase: number }>();

/** The period (120 to 600 s) and phase of the sine wave `seed` stands for. */
function wave(seed: string): { period: number; phase: number } {
  let w = waves.get(seed);
  if (!w) {
    w = {
      period: 120 + unit(`${seed}:period`) * 480,
      phase: unit(`${seed}:phase`) * 2 * Math.PI,
    };
    waves.set(seed, w);
  }
  return w;
}

/** A value at `t` seconds of the wave `seed` stands for, around `base`, swinging by `amp`. */
export type WaveValue = (
  seed: string,
  base: number,
  amp: number,
  t: number,
) => number;

/** A smooth level that swings between base - amp and base + amp. */
export const level: WaveValue = (seed, base, amp, t) => {
  const { period, phase } = wave(seed);
  return base + amp * Math.sin((2 * Math.PI * t) / period + phase);
};

/**
 * The integral over [0, t] of `level(seed, base, amp, ·)`: a counter whose
 * rate is that level. Monotonic as long as `base >= amp`.
 */
export const counter: WaveValue = (seed, base, amp, t) => {
  const { period, phase } = wave(seed);
  const omega = (2 * Math.PI) / period;
  return base * t +
    (amp / omega) * (Math.cos(phase) - Math.cos(omega * t + phase));
};

/** Two hex digits. */
export function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, "0");
}

/** A Proxmox-style MAC address (BC:24:11 is Proxmox's OUI), upper case. */
export function proxmoxMac(seed: string): string {
  const h = hash32(`mac:${seed}`);
  return ["BC", "24", "11", hex2(h >>> 16), hex2(h >>> 8), hex2(h)]
    .join(":")
    .toUpperCase();
}

/** The EUI-64 interface id of a MAC, as the last four groups of an IPv6 address. */
export function eui64(mac: string): string {
  const b = mac.split(":").map((part) => parseInt(part, 16));
  const bytes = [b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return groups.join(":");
}

/** Seconds in a day: the period of the daily swing. */
export const DAY_SECONDS = 86_400;

// The busiest moment of the simulated day, as seconds after midnight UTC.
const DAILY_PEAK_SECONDS = 14 * 3600;

/**
 * A daily swing of amplitude `amp` around 0, peaking at 14:00 UTC, at unix
 * second `unixS`: the working day's load that 24 h and 48 h charts show.
 */
export function daily(amp: number, unixS: number): number {
  return amp *
    Math.cos((2 * Math.PI * (unixS - DAILY_PEAK_SECONDS)) / DAY_SECONDS);
}

/**
 * The integral of `daily(amp, ·)` from unix second `fromS` to `toS`, to add
 * to a {@link counter} whose base is at least its own amplitude plus `amp`,
 * so the sum still only grows.
 */
export function dailyCounter(amp: number, fromS: number, toS: number): number {
  const omega = (2 * Math.PI) / DAY_SECONDS;
  const at = (s: number) => Math.sin(omega * (s - DAILY_PEAK_SECONDS)) / omega;
  return amp * (at(toS) - at(fromS));
}
