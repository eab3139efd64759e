/** `deno task host api-token` as a real process, and its token on a real server. */
import assert from "node:assert/strict";
import { openDatabase } from "../store/client.ts";
import { hashPassword } from "./password.ts";
import { runScript } from "../testing/subprocess.ts";
import { startTestServer } from "../testing/test_server.ts";
import { verifyApiToken } from "./api_tokens.ts";

Deno.test("host api-token prints a token that opens /api on a password-protected server; revoke-api-token ends it", async () => {
  const hash = await hashPassword("pw", { n: 1024, r: 8, p: 1 });
  await using server = await startTestServer({
    env: { DASHBOARD_PASSWORD_HASH: hash },
  });
  const env = { DATABASE_URL: server.config.databaseUrl };
  const cli = (...args: string[]) => runScript("cli.ts", args, env);

  const made = await cli("api-token", "grafana");
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^[A-Za-z0-9_-]{43}\n$/);
  const token = made.stdout.trim();

  const hosts = (t: string) =>
    fetch(`${server.url}/api/hosts`, {
      headers: { authorization: `Bearer ${t}` },
    }).then(async (r) => {
      await r.body?.cancel();
      return r.status;
    });
  assert.equal(await hosts(token), 200);
  assert.equal(
    await hosts(token.replace(/^./, (c) => c === "A" ? "B" : "A")),
    401,
  );

  const again = await cli("api-token", "grafana");
  assert.equal(again.code, 1);
  assert.equal(again.stdout, "");
  assert.match(
    again.stderr,
    /^proxmon: an API token named "grafana" already exists\n$/,
  );

  const revoked = await cli("revoke-api-token", "grafana");
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal(await hosts(token), 401);
  const db = await openDatabase(server.config.databaseUrl);
  assert.equal(await verifyApiToken(db, token), false);
  db.close();

  const missing = await cli("revoke-api-token", "grafana");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no API token named "grafana"/);
});
