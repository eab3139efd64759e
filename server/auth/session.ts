/**
 * Dashboard sessions: a row per login in `dashboard_sessions` (the SHA-256
 * of a random id, and its expiry), and a cookie holding that id, signed
 * with HMAC-SHA256. Logout deletes the row, so a copied cookie stops working
 * at once; `deno task host logout-all` deletes every row; a new password
 * changes the signing key, so every cookie signed before stops working.
 * Sessions survive a restart as long as SESSION_SECRET stays the same.
 */
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { eq, lt } from "drizzle-orm";
import type { Database } from "../store/client.ts";
import { dashboardSessions } from "../store/schema.ts";
import { generateToken, hashToken } from "./token_hash.ts";

export const SESSION_COOKIE = "proxmon_session";
export const DEFAULT_SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface SessionOptions {
  database: Database;
  /** the HMAC key; see {@link sessionSigningKey} */
  secret: string;
  ttlMs: number;
  /** unix milliseconds */
  now: () => number;
}

/**
 * The key that signs session cookies. The password hash is mixed in so that
 * changing the dashboard password ends every existing session.
 */
export function sessionSigningKey(
  sessionSecret: string,
  passwordHash: string,
): string {
  return `${sessionSecret}\n${passwordHash}`;
}

/**
 * True when the browser reached us over TLS, directly or through a reverse
 * proxy that says so; only then may the cookie be marked Secure, since a
 * Secure cookie set over plain HTTP would never be sent back.
 */
export function isSecureRequest(c: Context): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  const forwarded = c.req.header("x-forwarded-proto") ?? "";
  return forwarded.split(",")[0].trim().toLowerCase() === "https";
}

/** Starts a session: a new row, and its id in a fresh cookie. */
export async function startSession(
  c: Context,
  opts: SessionOptions,
): Promise<void> {
  const now = opts.now();
  const id = generateToken();
  const db = opts.database.db;
  // Pruned here: logins are rare, and this keeps the table at the live ones.
  await db.delete(dashboardSessions).where(
    lt(dashboardSessions.expiresAt, now),
  );
  await db.insert(dashboardSessions).values({
    idHash: hashToken(id),
    createdAt: now,
    expiresAt: now + opts.ttlMs,
  });
  await setSignedCookie(c, SESSION_COOKIE, id, opts.secret, {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isSecureRequest(c),
    maxAge: Math.floor(opts.ttlMs / 1000),
  });
}

async function sessionId(
  c: Context,
  secret: string,
): Promise<string | null> {
  const value = await getSignedCookie(c, secret, SESSION_COOKIE);
  return typeof value === "string" && /^[A-Za-z0-9_-]{16,128}$/.test(value)
    ? value
    : null;
}

/** True when the request carries a correctly signed cookie of a live session. */
export async function hasSession(
  c: Context,
  opts: Pick<SessionOptions, "database" | "secret" | "now">,
): Promise<boolean> {
  const id = await sessionId(c, opts.secret);
  if (id === null) return false;
  const [row] = await opts.database.db.select({
    expiresAt: dashboardSessions.expiresAt,
  }).from(dashboardSessions).where(eq(dashboardSessions.idHash, hashToken(id)));
  return row !== undefined && row.expiresAt > opts.now();
}

/** Ends the request's session (its row) and clears the cookie. */
export async function endSession(
  c: Context,
  opts: Pick<SessionOptions, "database" | "secret">,
): Promise<void> {
  const id = await sessionId(c, opts.secret);
  if (id !== null) {
    await opts.database.db.delete(dashboardSessions).where(
      eq(dashboardSessions.idHash, hashToken(id)),
    );
  }
  deleteCookie(c, SESSION_COOKIE, {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isSecureRequest(c),
  });
}

/** Ends every dashboard session; returns how many there were. */
export async function endAllSessions(database: Database): Promise<number> {
  const gone = await database.db.delete(dashboardSessions).returning({
    id: dashboardSessions.idHash,
  });
  return gone.length;
}
