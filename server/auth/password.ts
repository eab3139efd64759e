/**
 * Dashboard password hashing with scrypt (node:crypto). The stored form is
 * `scrypt$N$r$p$saltB64$hashB64`, so the cost can rise later without breaking
 * hashes made today: verification reads the parameters from the hash.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export interface PasswordHash {
  n: number;
  r: number;
  p: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

/** Cost for new hashes: about 32 MiB and ~0.1 s per check on a small server. */
export const SCRYPT_DEFAULTS = { n: 32768, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function derive(
  password: string,
  salt: Uint8Array,
  { n, r, p }: { n: number; r: number; p: number },
  keyBytes: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128·N·r bytes, or node refuses the parameters.
    scrypt(password, salt, keyBytes, {
      N: n,
      r,
      p,
      maxmem: 256 * n * r,
    }, (err, key) => err ? reject(err) : resolve(new Uint8Array(key)));
  });
}

/**
 * Parses a stored hash; null when it is not in the `scrypt$N$r$p$salt$hash`
 * form or its parameters are out of range.
 */
export function parsePasswordHash(text: string): PasswordHash | null {
  const parts = text.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return null;
  const [n, r, p] = parts.slice(1, 4).map((x) =>
    /^\d{1,9}$/.test(x) ? Number(x) : NaN
  );
  const isPowerOfTwo = n > 1 && (n & (n - 1)) === 0;
  if (!isPowerOfTwo || !(r >= 1 && r <= 64) || !(p >= 1 && p <= 16)) {
    return null;
  }
  if (!B64.test(parts[4]) || !B64.test(parts[5])) return null;
  const salt = Uint8Array.from(atob(parts[4]), (c) => c.charCodeAt(0));
  const hash = Uint8Array.from(atob(parts[5]), (c) => c.charCodeAt(0));
  if (salt.length < 8 || hash.length < 16) return null;
  return { n, r, p, salt, hash };
}

const toB64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** Hashes a password with a fresh random salt. */
export async function hashPassword(
  password: string,
  cost: { n: number; r: number; p: number } = SCRYPT_DEFAULTS,
): Promise<string> {
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const key = await derive(password, salt, cost, KEY_BYTES);
  return ["scrypt", cost.n, cost.r, cost.p, toB64(salt), toB64(key)].join("$");
}

/**
 * True when `password` matches `stored`, compared in constant time. A stored
 * value that is not a valid hash never matches.
 */
export async function verifyPassword(
  password: string,
  stored: string,
): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (parsed === null) return false;
  const key = await derive(password, parsed.salt, parsed, parsed.hash.length);
  return timingSafeEqual(key, parsed.hash);
}
