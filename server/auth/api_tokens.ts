/**
 * API tokens let scripts read `/api/*` without a dashboard session. They
 * are made like agent tokens (32 random bytes, only the SHA-256 stored) and
 * checked in constant time against every stored hash; there are few tokens,
 * so the scan costs nothing and leaks nothing about which hash was near.
 */
import { asc, eq } from "drizzle-orm";
import type { Database } from "../store/client.ts";
import { apiTokens } from "../store/schema.ts";
import { nameProblem } from "../store/hosts.ts";
import { generateToken, hashToken, tokenMatches } from "./token_hash.ts";

/** An API token operation refused for a reason to show as is. */
export class ApiTokenError extends Error {
  constructor(
    readonly code: "invalid_name" | "duplicate" | "not_found",
    message: string,
  ) {
    super(message);
    this.name = "ApiTokenError";
  }
}

/** Token names follow the host-name rules: safe in a shell and a URL. */
function checkName(name: string): void {
  const problem = nameProblem("token", name);
  if (problem !== null) throw new ApiTokenError("invalid_name", problem);
}

/**
 * Creates a named API token and returns it. This is the only time the token
 * is visible; the database keeps its hash.
 */
export async function createApiToken(
  { db }: Database,
  name: string,
  now: number,
): Promise<string> {
  checkName(name);
  const token = generateToken();
  const inserted = await db.insert(apiTokens)
    .values({ name, tokenHash: hashToken(token), createdAt: now })
    .onConflictDoNothing({ target: apiTokens.name })
    .returning({ id: apiTokens.id });
  if (inserted.length === 0) {
    throw new ApiTokenError(
      "duplicate",
      `an API token named ${JSON.stringify(name)} already exists`,
    );
  }
  return token;
}

/** Deletes a named API token; requests using it fail from then on. */
export async function revokeApiToken(
  { db }: Database,
  name: string,
): Promise<void> {
  checkName(name);
  const deleted = await db.delete(apiTokens)
    .where(eq(apiTokens.name, name))
    .returning({ id: apiTokens.id });
  if (deleted.length === 0) {
    throw new ApiTokenError(
      "not_found",
      `no API token named ${JSON.stringify(name)}`,
    );
  }
}

/** A stored API token as the CLI lists it: never the token or its hash. */
export interface ApiTokenInfo {
  name: string;
  createdAt: number;
}

/** Every API token's name and creation time, by name. */
export async function listApiTokens(
  { db }: Database,
): Promise<ApiTokenInfo[]> {
  return await db.select({
    name: apiTokens.name,
    createdAt: apiTokens.createdAt,
  }).from(apiTokens).orderBy(asc(apiTokens.name));
}

/** True when `token` is one of the stored API tokens. */
export async function verifyApiToken(
  { db }: Database,
  token: string,
): Promise<boolean> {
  const rows = await db.select({ tokenHash: apiTokens.tokenHash })
    .from(apiTokens);
  let found = false;
  for (const row of rows) {
    // No early exit: every hash is compared whatever matched before.
    if (tokenMatches(token, row.tokenHash)) found = true;
  }
  return found;
}
