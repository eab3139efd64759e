import assert from "node:assert/strict";
import { processGone, readProc } from "./proc_stats.ts";

const reaped = async () => {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
};

Deno.test("processGone() knows the error of a /proc file read after its process exited (ESRCH)", async () => {
  const child = new Deno.Command("sleep", { args: ["0.05"] }).spawn();
  using file = await Deno.open(`/proc/${child.pid}/stat`);
  await child.status; // exited and reaped, the file still open
  const err = await file.read(new Uint8Array(1024)).then(() => null, (e) => e);
  assert.ok(err instanceof Error, "reading a dead process's stat must fail");
  assert.equal(processGone(err), true, String(err));
  assert.equal(
    processGone(new Error("Permission denied (os error 13)")),
    false,
  );
});

Deno.test("readProc() is null for a process that is gone, a reading for a live one", async () => {
  assert.equal(await readProc(await reaped(), Date.now), null);
  const me = await readProc(Deno.pid, Date.now);
  assert.ok(me !== null && me.rssBytes > 0 && me.cpuMs >= 0);
});
