/**
 * Agent and API tokens: 32 random bytes (base64url). Only their SHA-256
 * (hex) is stored, and checks compare hashes in constant time.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh agent token: 32 random bytes as base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The stored form of a token: hex SHA-256. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** True when `token` hashes to `storedHash`, compared in constant time. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const given = Buffer.from(hashToken(token), "hex");
  const stored = Buffer.from(storedHash, "hex");
  // A malformed stored hash still runs the compare so timing stays flat.
  const same = stored.length === given.length;
  return timingSafeEqual(given, same ? stored : given) && same;
}
