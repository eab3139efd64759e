import assert from "node:assert/strict";
import type { Database } from "../store/client.ts";
import { apiTokens } from "../store/schema.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import {
  ApiTokenError,
  createApiToken,
  revokeApiToken,
  verifyApiToken,
} from "./api_tokens.ts";

async function withDb(fn: (database: Database) => Promise<void>) {
  await using tmp = await openTempDatabase();
  await fn(tmp.database);
}

Deno.test("createApiToken() returns a token that verifies and stores only its SHA-256", async () => {
  await withDb(async (database) => {
    const token = await createApiToken(database, "grafana", 1);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await verifyApiToken(database, token), true);
    assert.equal(await verifyApiToken(database, token + "x"), false);
    assert.equal(await verifyApiToken(database, ""), false);
    const rows = await database.db.select().from(apiTokens);
    assert.equal(rows.length, 1);
    assert.match(rows[0].tokenHash, /^[0-9a-f]{64}$/);
    assert.ok(!rows[0].tokenHash.includes(token));
  });
});

Deno.test("createApiToken() refuses a duplicate or unsafe name", async () => {
  await withDb(async (database) => {
    await createApiToken(database, "scripts", 1);
    await assert.rejects(
      createApiToken(database, "scripts", 2),
      (e) => e instanceof ApiTokenError && e.code === "duplicate",
    );
    await assert.rejects(
      createApiToken(database, "no spaces", 2),
      (e) => e instanceof ApiTokenError && e.code === "invalid_name",
    );
  });
});

Deno.test("revokeApiToken() makes the token fail", async () => {
  await withDb(async (database) => {
    const keep = await createApiToken(database, "keep", 1);
    const drop = await createApiToken(database, "drop", 1);
    await revokeApiToken(database, "drop");
    assert.equal(await verifyApiToken(database, drop), false);
    assert.equal(await verifyApiToken(database, keep), true);
    await assert.rejects(
      revokeApiToken(database, "drop"),
      (e) => e instanceof ApiTokenError && e.code === "not_found",
    );
  });
});
