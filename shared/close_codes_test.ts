import assert from "node:assert/strict";
import { CLOSE_CODES, closeName } from "./close_codes.ts";

Deno.test("every close code has one name, and closeName() maps it back", () => {
  const codes = Object.values(CLOSE_CODES);
  assert.equal(new Set(codes).size, codes.length, "no code has two names");
  for (const [name, code] of Object.entries(CLOSE_CODES)) {
    assert.equal(closeName(code), name);
  }
  assert.equal(closeName(4000), undefined);
});
