import assert from "node:assert/strict";
import { hashPassword, parsePasswordHash, verifyPassword } from "./password.ts";

// Low cost keeps the suite fast; the default cost is checked once below.
const CHEAP = { n: 1024, r: 8, p: 1 };

Deno.test("hashPassword() writes scrypt$N$r$p$salt$hash with a fresh salt each time", async () => {
  const a = await hashPassword("correct horse", CHEAP);
  const b = await hashPassword("correct horse", CHEAP);
  assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
  assert.notEqual(a, b);
});

Deno.test("verifyPassword() accepts the password and refuses any other", async () => {
  const stored = await hashPassword("correct horse", CHEAP);
  assert.equal(await verifyPassword("correct horse", stored), true);
  assert.equal(await verifyPassword("correct horsE", stored), false);
  assert.equal(await verifyPassword("", stored), false);
});

Deno.test("hashPassword() defaults to N=32768, r=8, p=1, and verifies with the cost in the hash", async () => {
  const stored = await hashPassword("pw");
  assert.match(stored, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword("pw", stored), true);
});

Deno.test("parsePasswordHash() refuses anything that is not a usable scrypt hash", async () => {
  const good = await hashPassword("pw", CHEAP);
  const [, , r, p, salt, hash] = good.split("$");
  for (
    const bad of [
      "",
      "hunter2",
      `bcrypt$1024$${r}$${p}$${salt}$${hash}`,
      `scrypt$1000$${r}$${p}$${salt}$${hash}`,
      `scrypt$1024$0$${p}$${salt}$${hash}`,
      `scrypt$1024$${r}$${p}$not base64!$${hash}`,
      `scrypt$1024$${r}$${p}$${salt}`,
    ]
  ) {
    assert.equal(parsePasswordHash(bad), null, bad);
    assert.equal(await verifyPassword("pw", bad), false);
  }
  assert.ok(parsePasswordHash(good));
});
