/**
 * The host registry: which agents may connect, with what token, and whether
 * they are connected now. Only a token's hash is stored
 * (`auth/token_hash.ts`).
 */
import { asc, eq, inArray } from "drizzle-orm";
import * as v from "valibot";
import { HostName } from "@proxmon/shared";
import { generateToken, hashToken, tokenMatches } from "../auth/token_hash.ts";
import type { Database } from "./client.ts";
import { type HostRow, hosts } from "./schema.ts";

export type { HostRow };

export type HostErrorCode = "invalid_name" | "duplicate" | "not_found";

/** A host operation refused for a reason the caller should show as is. */
export class HostError extends Error {
  constructor(readonly code: HostErrorCode, message: string) {
    super(message);
    this.name = "HostError";
  }
}

// Compared against when the host does not exist, so an unknown host costs
// the same hash and compare as a known one with a wrong token.
const ABSENT_HASH = hashToken("proxmon: no such host");

/**
 * Why `name` breaks the host-name rules (which API token names follow too),
 * or null when it does not; `what` ("host", "token") starts the message.
 */
export function nameProblem(what: string, name: string): string | null {
  const parsed = v.safeParse(HostName, name);
  return parsed.success
    ? null
    : `invalid ${what} name ${JSON.stringify(name)}: ${
      parsed.issues[0].message
    }`;
}

function checkName(name: string): void {
  const problem = nameProblem("host", name);
  if (problem !== null) throw new HostError("invalid_name", problem);
}

function notFound(name: string): HostError {
  return new HostError("not_found", `no host named ${JSON.stringify(name)}`);
}

/**
 * Registers a host and returns it with its token. The token is returned only
 * here; it cannot be recovered later, only rotated.
 */
export async function createHost(
  { db }: Database,
  name: string,
  now: number,
): Promise<{ host: HostRow; token: string }> {
  checkName(name);
  const token = generateToken();
  const inserted = await db.insert(hosts)
    .values({ name, tokenHash: hashToken(token), createdAt: now })
    .onConflictDoNothing({ target: hosts.name })
    .returning();
  if (inserted.length === 0) {
    throw new HostError(
      "duplicate",
      `a host named ${JSON.stringify(name)} already exists`,
    );
  }
  return { host: inserted[0], token };
}

/** Every host, ordered by name. */
export function listHosts({ db }: Database): Promise<HostRow[]> {
  return db.select().from(hosts).orderBy(asc(hosts.name));
}

/** The host with this name, or null. */
export async function findHost(
  { db }: Database,
  name: string,
): Promise<HostRow | null> {
  const rows = await db.select().from(hosts).where(eq(hosts.name, name))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * Gives a host a new token and returns it. The old one stops working for new
 * connections at once; live sockets notice within the token check interval.
 */
export async function rotateToken(
  { db }: Database,
  name: string,
): Promise<string> {
  checkName(name);
  const token = generateToken();
  const updated = await db.update(hosts)
    .set({ tokenHash: hashToken(token) })
    .where(eq(hosts.name, name))
    .returning({ id: hosts.id });
  if (updated.length === 0) throw notFound(name);
  return token;
}

/** Removes a host; its metrics go with it (ON DELETE CASCADE). */
export async function removeHost(
  { db }: Database,
  name: string,
): Promise<void> {
  checkName(name);
  const deleted = await db.delete(hosts).where(eq(hosts.name, name))
    .returning({ id: hosts.id });
  if (deleted.length === 0) throw notFound(name);
}

/**
 * Checks a join. Returns the host when the name exists and the token
 * matches, else null; both failures take the same path and the same time.
 */
export async function authenticateHost(
  database: Database,
  name: string,
  token: string,
): Promise<HostRow | null> {
  const host = await findHost(database, name);
  const ok = tokenMatches(token, host?.tokenHash ?? ABSENT_HASH);
  return ok && host ? host : null;
}

/** Marks a host connected, with the agent version it reported. */
export async function markOnline(
  { db }: Database,
  id: number,
  agentVersion: string,
  now: number,
): Promise<void> {
  await db.update(hosts)
    .set({ status: "online", agentVersion, lastSeenAt: now })
    .where(eq(hosts.id, id));
}

/** Marks a host disconnected. */
export async function markOffline(
  { db }: Database,
  id: number,
  now: number,
): Promise<void> {
  await db.update(hosts).set({ status: "offline", lastSeenAt: now })
    .where(eq(hosts.id, id));
}

/**
 * Marks every host offline. Run at start-up: no socket survives a restart,
 * so an "online" left by a crash is stale.
 */
export async function markAllOffline({ db }: Database): Promise<void> {
  await db.update(hosts).set({ status: "offline" })
    .where(eq(hosts.status, "online"));
}

/** Current token hashes of the given hosts; removed hosts are absent. */
export async function tokenHashes(
  { db }: Database,
  ids: number[],
): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: hosts.id, tokenHash: hosts.tokenHash })
    .from(hosts).where(inArray(hosts.id, ids));
  return new Map(rows.map((r) => [r.id, r.tokenHash]));
}
