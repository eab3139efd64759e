import assert from "node:assert/strict";
import { threadCpuClock } from "./thread_cpu.ts";

Deno.test("threadCpuClock counts this thread's work and not a Worker's beside it", async () => {
  const clock = threadCpuClock();
  // A Worker that spins for 600 ms while this thread sleeps.
  const src = `const end = Date.now() + 600; while (Date.now() < end) {}
    self.postMessage("done");`;
  const url = `data:application/javascript,${encodeURIComponent(src)}`;
  const t0 = clock();
  const worker = new Worker(url, { type: "module" });
  await new Promise((r) => worker.onmessage = r);
  worker.terminate();
  const idle = clock() - t0;
  assert.ok(idle < 300, `charged ${idle} ms of the Worker's 600`);
  // And this thread spinning 300 ms is counted.
  const t1 = clock();
  const end = Date.now() + 300;
  while (Date.now() < end) { /* spin */ }
  const busy = clock() - t1;
  assert.ok(busy >= 200, `counted only ${busy} ms of 300`);
});
