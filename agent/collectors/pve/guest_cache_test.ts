import assert from "node:assert/strict";
import type { GuestRuntime } from "@proxmon/shared";
import { createGuestConfigCache, nextRefreshMs } from "./guest_cache.ts";

const MINUTE = 60_000;
const TTL = 10 * MINUTE;

function guest(
  vmid: number,
  changes: Partial<GuestRuntime> = {},
): GuestRuntime {
  return {
    vmid,
    type: "qemu",
    name: `vm-${vmid}`,
    status: "running",
    uptime_seconds: 1000,
    cpu_usage: 0.1,
    cpus: 2,
    mem_bytes: 1024,
    max_mem_bytes: 2048,
    disk_bytes: null,
    max_disk_bytes: 4096,
    netin_bytes: null,
    netout_bytes: null,
    diskread_bytes: null,
    diskwrite_bytes: null,
    tags: ["web"],
    template: false,
    lock: null,
    psi: null,
    ...changes,
  };
}

/**
 * Runs a cycle every minute from `fromMs` for `cycles` cycles over `guests`,
 * fetching (storing `{ fetchedAt }`) whatever the cache does not answer.
 * Returns the vmids fetched in each cycle.
 */
function runCycles(
  cache: ReturnType<typeof createGuestConfigCache>,
  guests: GuestRuntime[],
  fromMs: number,
  cycles: number,
): number[][] {
  const fetched: number[][] = [];
  for (let i = 0; i < cycles; i++) {
    const nowMs = fromMs + i * MINUTE;
    const now: number[] = [];
    for (const g of guests) {
      if (cache.get(g, nowMs) === undefined) {
        cache.set(g, { fetchedAt: nowMs }, nowMs);
        now.push(g.vmid);
      }
    }
    fetched.push(now);
  }
  return fetched;
}

Deno.test("nextRefreshMs() puts a guest's refreshes one TTL apart, after the given time", () => {
  const first = nextRefreshMs(101, 0, TTL);
  assert.ok(first > 0 && first <= TTL);
  assert.equal(nextRefreshMs(101, first, TTL), first + TTL);
  assert.equal(nextRefreshMs(101, first - 1, TTL), first);
  assert.equal(nextRefreshMs(101, first + 5 * TTL + 1, TTL), first + 6 * TTL);
  assert.equal(nextRefreshMs(101, 1234, 0), 1234); // TTL 0: due at once
});

Deno.test("createGuestConfigCache() answers a stored config until it is due", () => {
  const cache = createGuestConfigCache(TTL);
  const g = guest(100);
  assert.equal(cache.get(g, 0), undefined);
  cache.set(g, { cores: 2 }, 0);
  assert.deepEqual(cache.get(g, MINUTE), { cores: 2 });
  // a first fetch is refreshed at the guest's phase, ½ to 1½ TTL later
  const due = nextRefreshMs(100, TTL / 2, TTL);
  assert.deepEqual(cache.get(g, due - 1), { cores: 2 });
  assert.equal(cache.get(g, due), undefined);
  assert.equal(cache.size, 1); // due, not dropped: the refresh keeps the phase
  cache.set(g, { cores: 4 }, due + MINUTE);
  assert.deepEqual(cache.get(g, due + TTL - 1), { cores: 4 });
  assert.equal(cache.get(g, due + TTL), undefined);
});

Deno.test("createGuestConfigCache() drops a config once the guest's list entry shows an edit or a restart", async (t) => {
  const changes: [string, Partial<GuestRuntime>][] = [
    ["renamed", { name: "renamed" }],
    ["stopped", { status: "stopped" }],
    ["made a template", { template: true }],
    ["given more CPUs", { cpus: 4 }],
    ["given more memory", { max_mem_bytes: 4096 }],
    ["given a bigger disk", { max_disk_bytes: 8192 }],
    ["retagged", { tags: ["web", "prod"] }],
    ["replaced by a container with its vmid", { type: "lxc" }],
    ["restarted (uptime went back)", { uptime_seconds: 30 }],
  ];
  for (const [what, change] of changes) {
    await t.step(what, () => {
      const cache = createGuestConfigCache(TTL);
      cache.set(guest(100), { cores: 2 }, 0);
      assert.equal(cache.get(guest(100, change), MINUTE), undefined);
      assert.equal(cache.size, 0);
    });
  }
  await t.step("but not for figures that move on their own", () => {
    const cache = createGuestConfigCache(TTL);
    cache.set(guest(100), { cores: 2 }, 0);
    const busier = guest(100, {
      uptime_seconds: 1060,
      cpu_usage: 0.9,
      mem_bytes: 2000,
    });
    assert.deepEqual(cache.get(busier, MINUTE), { cores: 2 });
    // the uptime it saw last is the one a restart is measured against
    assert.equal(
      cache.get(guest(100, { uptime_seconds: 1030 }), 2 * MINUTE),
      undefined,
    );
  });
});

Deno.test("createGuestConfigCache() retain() evicts the unlisted guests of the listed types only", () => {
  const cache = createGuestConfigCache(TTL);
  const vm = guest(100);
  const ct = guest(200, { type: "lxc" });
  const goneVm = guest(101);
  for (const g of [vm, ct, goneVm]) cache.set(g, { vmid: g.vmid }, 0);
  cache.retain([vm], ["qemu"]); // the lxc list failed: its guests stay
  assert.equal(cache.size, 2);
  assert.equal(cache.get(goneVm, MINUTE), undefined);
  assert.deepEqual(cache.get(ct, MINUTE), { vmid: 200 });
  cache.retain([vm], ["qemu", "lxc"]);
  assert.equal(cache.size, 1);
  cache.delete(100);
  assert.equal(cache.size, 0);
});

Deno.test("createGuestConfigCache() spreads the refreshes of 50 guests over the TTL instead of one cycle", () => {
  const cache = createGuestConfigCache(TTL);
  const guests = Array.from({ length: 50 }, (_, i) => guest(300 + i));
  const perCycle = runCycles(cache, guests, 0, 61); // one hour, every minute
  assert.equal(perCycle[0].length, 50); // the start fetches everything
  assert.deepEqual(perCycle.slice(1, 5).flat(), []); // none within ½ TTL
  const later = perCycle.slice(1).map((vmids) => vmids.length);
  // 50 guests once per 10-minute TTL is 5 a minute; none near all 50 at once
  assert.ok(Math.max(...later) <= 10, `refreshes per cycle: ${later}`);
  // after the first round, every guest is refreshed exactly once per TTL
  const lastTtl = perCycle.slice(51).flat().sort((a, b) => a - b);
  assert.deepEqual(lastTtl, guests.map((g) => g.vmid));
});

Deno.test("createGuestConfigCache() never serves a config much older than the TTL", () => {
  const cache = createGuestConfigCache(TTL);
  const guests = Array.from({ length: 50 }, (_, i) => guest(300 + i));
  runCycles(cache, guests, 0, 1);
  for (let nowMs = MINUTE; nowMs <= 3 * TTL; nowMs += MINUTE) {
    for (const g of guests) {
      const config = cache.get(g, nowMs);
      const ageMs = config === undefined ? 0 : nowMs - Number(config.fetchedAt);
      assert.ok(ageMs < 1.5 * TTL + MINUTE, `${g.vmid} at ${nowMs}: ${ageMs}`);
      if (config === undefined) cache.set(g, { fetchedAt: nowMs }, nowMs);
    }
  }
});

Deno.test("createGuestConfigCache() with TTL 0 refetches every cycle and rejects a negative TTL", () => {
  const cache = createGuestConfigCache(0);
  cache.set(guest(100), { cores: 2 }, 0);
  assert.equal(cache.get(guest(100), MINUTE), undefined);
  assert.throws(() => createGuestConfigCache(-1), RangeError);
  assert.throws(() => createGuestConfigCache(NaN), RangeError);
});

Deno.test("a refresh made late, just before the guest's next grid point, is next due at least ½ TTL later", () => {
  const cache = createGuestConfigCache(TTL);
  const g = guest(100);
  cache.set(g, { n: 1 }, 0);
  const due = cache.dueAtMs(100)!;
  // refreshed on schedule: the next one a TTL after, at the same phase
  assert.equal(cache.get(g, due), undefined);
  cache.set(g, { n: 2 }, due);
  assert.equal(cache.dueAtMs(100), due + TTL);
  // refreshed a whole TTL late (it waited its turn), a minute before the
  // next grid point: that point is skipped, the phase kept
  const late = due + 2 * TTL - MINUTE;
  assert.equal(cache.get(g, late), undefined);
  cache.set(g, { n: 3 }, late);
  assert.equal(cache.dueAtMs(100), due + 3 * TTL);
  assert.deepEqual(cache.get(g, due + 2 * TTL), { n: 3 });
});
