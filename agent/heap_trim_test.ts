import assert from "node:assert/strict";
import { AGENT_V8_FLAGS, v8FlagsArg } from "./build.ts";
import { createHeapTrim, type ExposedGc } from "./heap_trim.ts";

const MB = 2 ** 20;

Deno.test("createHeapTrim() collects once the heap has grown by the threshold since the last collection, and never without gc", () => {
  let used = 10 * MB;
  const calls: string[] = [];
  const gc: ExposedGc = (o) => {
    calls.push(o.flavor);
    used = 9 * MB; // what survived
  };
  const trim = createHeapTrim({ gc, heapUsed: () => used, growthBytes: MB });
  assert.equal(trim(), false, "the first call only takes the base");
  used += MB / 2;
  assert.equal(trim(), false);
  used += MB / 2;
  assert.equal(trim(), true, "10 MB → 11 MB is 1 MB of growth");
  assert.deepEqual(calls, ["last-resort"]);
  used = 9.5 * MB;
  assert.equal(trim(), false, "growth counts from what survived (9 MB)");
  used = 8 * MB; // V8 collected on its own: the base follows it down
  assert.equal(trim(), false);
  used = 9 * MB;
  assert.equal(trim(), true);
  assert.equal(calls.length, 2);

  const none = createHeapTrim({
    gc: undefined,
    heapUsed: () => 100 * MB,
    growthBytes: 0,
  });
  assert.equal(none(), false);
});

Deno.test("under the binary's V8 flags the trim really runs V8's collection and the heap shrinks", async () => {
  const script = `
    import { processHeapTrim } from ${
    JSON.stringify(import.meta.resolve("./heap_trim.ts"))
  };
    const trim = processHeapTrim();
    trim();
    let junk = Array.from({ length: 200_000 }, (_, i) => ({ i, s: "x" + i }));
    const grown = Deno.memoryUsage().heapUsed;
    junk = [];
    const ran = trim();
    console.log(JSON.stringify({ ran, gc: typeof globalThis.gc, grown, after: Deno.memoryUsage().heapUsed }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", ...v8FlagsArg(AGENT_V8_FLAGS), script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(r.gc, "function", "AGENT_V8_FLAGS expose gc()");
  assert.equal(r.ran, true);
  assert.ok(r.grown - r.after > 5 * MB, JSON.stringify(r));
});
