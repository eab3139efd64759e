/**
 * `deno bench -A server/alerts/engine_bench.ts`: the CPU cost of running
 * the default rules on one fast sample (the fixture: 2 pools, 5 guests,
 * storages), the steady state of a healthy fleet and of one where every
 * host has alerts firing. At 2,000 samples/s, x µs per sample is
 * x × 2000 / 10,000 % of one core.
 */
import { fastWith, onlyRules, startHarness } from "./testing/engine_harness.ts";
import { BUILTIN_RULES } from "./rules/mod.ts";

const HOSTS = 1000;
const healthy = await fastWith([
  {
    name: "rpool",
    health: "ONLINE",
    capacity_percent: 40,
    last_scrub_end: Date.now() / 1000 - 86_400,
  },
  {
    name: "tank",
    health: "ONLINE",
    capacity_percent: 62,
    last_scrub_end: Date.now() / 1000 - 86_400,
  },
]);
const degraded = await fastWith([
  {
    name: "rpool",
    health: "ONLINE",
    capacity_percent: 40,
    last_scrub_end: null,
  },
  {
    name: "tank",
    health: "DEGRADED",
    capacity_percent: 95,
    degraded_vdev_count: 1,
    last_scrub_end: null,
  },
]);

for (
  const [name, data] of [["healthy fleet", healthy], [
    "every host firing",
    degraded,
  ]] as const
) {
  const h = await startHarness(onlyRules(...BUILTIN_RULES.map((r) => r.id)));
  let at = Date.now();
  // warm up every host's windows and alerts
  for (let i = 0; i < HOSTS; i++) {
    h.engine.observe(`h${i}`, at, { interval: "fast", data });
  }
  await h.engine.flush();
  let i = 0;
  Deno.bench(`default rules, one fast sample, ${name}`, () => {
    h.engine.observe(`h${i++ % HOSTS}`, at += 10, { interval: "fast", data });
  });
  globalThis.addEventListener("unload", () => void h[Symbol.asyncDispose]());
}
