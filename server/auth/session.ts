/**
 * Dashboard sessions as a signed cookie. The cookie holds only its expiry
 * time, signed with HMAC-SHA256; nothing is stored on the server, so a
 * restart keeps everyone logged in as long as SESSION_SECRET stays the same.
 */
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";

export const SESSION_COOKIE = "proxmon_session";
export const DEFAULT_SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface SessionOptions {
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

/** Sets a fresh session cookie on the response. */
export async function startSession(
  c: Context,
  opts: SessionOptions,
): Promise<void> {
  const expiresAt = opts.now() + opts.ttlMs;
  await setSignedCookie(c, SESSION_COOKIE, String(expiresAt), opts.secret, {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isSecureRequest(c),
    maxAge: Math.floor(opts.ttlMs / 1000),
  });
}

/** True when the request carries a correctly signed, unexpired session. */
export async function hasSession(
  c: Context,
  opts: Pick<SessionOptions, "secret" | "now">,
): Promise<boolean> {
  const value = await getSignedCookie(c, opts.secret, SESSION_COOKIE);
  if (typeof value !== "string" || !/^\d+$/.test(value)) return false;
  return Number(value) > opts.now();
}

/** Clears the session cookie. */
export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isSecureRequest(c),
  });
}
