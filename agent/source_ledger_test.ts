import assert from "node:assert/strict";
import { fakeRunner } from "./testing/fake_runner.ts";
import { createSourceLedger } from "./source_ledger.ts";

// the same failing answer for two commands, so the ledger groups them
const exit255 = {
  error: {
    kind: "nonzero_exit" as const,
    code: 255,
    stdout: "",
    stderr: "no",
    message: "exit 255",
  },
};

Deno.test("the source ledger counts commands, groups failures and knows whether PVE or ZFS answered", async () => {
  const ledger = createSourceLedger();
  const runner = ledger.wrap(fakeRunner({
    "zpool list": { error: { kind: "enoent", message: "No such file" } },
    "pvesh get /a": exit255,
    "pvesh get /b": exit255,
    "df /": "1 2\n",
  }));
  for (const line of ["zpool list", "pvesh get /a", "pvesh get /b", "df /"]) {
    const [cmd, ...args] = line.split(" ");
    await runner.run(cmd, args);
  }
  assert.equal(
    ledger.summary(),
    "4 commands, 3 failed: zpool (not found), pvesh (exit 255) ×2",
  );
  assert.equal(ledger.pveOrZfsAnswered(), false, "df is not a PVE tool");
  ledger.record("zfs");
  assert.equal(ledger.pveOrZfsAnswered(), true);
  assert.equal(
    ledger.summary(),
    "5 commands, 3 failed: zpool (not found), pvesh (exit 255) ×2",
  );
});
