/**
 * A host's samples over time for the store benchmark: the fixture payloads
 * (fixtures/samples/) widened to 50 guests, with numbers that move the way
 * a node's do. Host CPU and memory follow a daily curve plus noise; each
 * guest has its own CPU level and traffic rates (some busy, most idle, a
 * few stopped), drawn afresh every sample with ±20 % noise, and its
 * counters grow by rate × elapsed time; pools and datasets fill slowly.
 */
import type {
  FastPayload,
  Interval,
  MediumPayload,
  PayloadFor,
  SlowPayload,
} from "@proxmon/shared";
import { loadPayload } from "./sample_fixtures.ts";

export const GUESTS = 50;

/** A small seeded PRNG (mulberry32), so runs are repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GuestProfile {
  cpu: number;
  netIn: number;
  netOut: number;
  read: number;
  write: number;
  running: boolean;
}

export interface HostStream {
  /** the payload of `interval` collected at `atMs` */
  next<I extends Interval>(interval: I, atMs: number): PayloadFor<I>;
}

/** Builds the sample stream of one host; `seed` varies it between hosts. */
export async function hostStream(seed: number): Promise<HostStream> {
  const rnd = prng(seed);
  const fast = await loadPayload("fast");
  const medium = await loadPayload("medium");
  const slow = await loadPayload("slow");
  const templates = fast.vms_runtime.vms.filter((g) => !g.template);
  const details = medium.vms_detail.vms;
  const logUniform = (lo: number, hi: number) =>
    Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo)));
  const profiles: GuestProfile[] = Array.from({ length: GUESTS }, (_, i) => {
    const busy = i % 5 === 0;
    return {
      cpu: busy ? 0.2 + rnd() * 0.5 : rnd() * 0.05,
      netIn: busy ? logUniform(1e5, 5e6) : logUniform(50, 5e3),
      netOut: busy ? logUniform(5e4, 2e6) : logUniform(50, 3e3),
      read: busy ? logUniform(1e4, 1e7) : logUniform(10, 1e4),
      write: busy ? logUniform(1e5, 2e7) : logUniform(100, 5e4),
      running: i % 10 !== 9,
    };
  });
  const guests = profiles.map((_, i) => {
    const g = structuredClone(templates[i % templates.length]);
    g.vmid = 100 + i;
    g.name = `${g.name}-${i}`;
    return g;
  });
  const guestDetails = profiles.map((_, i) => {
    const d = structuredClone(details[i % details.length]);
    d.vmid = 100 + i;
    d.name = guests[i].name;
    return d;
  });
  let lastFast = 0;
  const noise = () => 0.8 + 0.4 * rnd();

  function nextFast(atMs: number): FastPayload {
    const day = Math.sin((2 * Math.PI * atMs) / 86_400_000);
    const p = structuredClone(fast);
    const h = p.host;
    const cpu = Math.max(0, Math.min(100, 30 + 20 * day + 10 * rnd()));
    h.cpu_percent = Math.round(cpu * 100) / 100;
    h.load1 = Math.round(cpu * 8) / 100;
    h.load5 = Math.round(cpu * 7.5) / 100;
    h.load15 = Math.round(cpu * 7) / 100;
    if (h.mem_total_bytes !== null) {
      h.mem_available_bytes = Math.round(
        h.mem_total_bytes * (0.4 + 0.05 * day + 0.01 * rnd()),
      );
    }
    for (const n of h.net) {
      n.rx_bytes_per_s = Math.round(1e6 * (1.2 + day) * noise());
      n.tx_bytes_per_s = Math.round(4e5 * (1.2 + day) * noise());
    }
    for (const d of h.disks) {
      d.read_bytes_per_s = Math.round(2e5 * noise());
      d.write_bytes_per_s = Math.round(1.5e6 * noise());
    }
    const elapsed = lastFast === 0 ? 10 : (atMs - lastFast) / 1000;
    lastFast = atMs;
    p.vms_runtime.vms = guests.map((g, i) => {
      const prof = profiles[i];
      if (!prof.running) {
        return { ...g, status: "stopped", cpu_usage: 0, uptime_seconds: 0 };
      }
      g.cpu_usage = Math.round(Math.min(1, prof.cpu * noise()) * 10_000) /
        10_000;
      g.mem_bytes = Math.round((g.max_mem_bytes ?? 4e9) * (0.5 + 0.02 * rnd()));
      const grow = (x: number | null, rate: number) =>
        x === null ? x : x + Math.round(rate * noise() * elapsed);
      g.netin_bytes = grow(g.netin_bytes, prof.netIn);
      g.netout_bytes = grow(g.netout_bytes, prof.netOut);
      g.diskread_bytes = grow(g.diskread_bytes, prof.read);
      g.diskwrite_bytes = grow(g.diskwrite_bytes, prof.write);
      g.uptime_seconds = (g.uptime_seconds ?? 0) + Math.round(elapsed);
      g.status = "running";
      return { ...g };
    });
    for (const pool of p.zfs_pools.pools) {
      pool.allocated_bytes = (pool.allocated_bytes ?? 0) +
        Math.round((atMs % 86_400_000) / 1000) * 4096;
    }
    return p;
  }

  function nextMedium(atMs: number): MediumPayload {
    const p = structuredClone(medium);
    p.vms_detail.vms = guestDetails;
    for (const d of p.zfs_datasets.datasets) {
      d.used_bytes = (d.used_bytes ?? 0) +
        Math.round((atMs % 86_400_000) / 60_000) * 65_536;
    }
    return p;
  }

  const nextSlow = (): SlowPayload => structuredClone(slow);

  return {
    next<I extends Interval>(interval: I, atMs: number): PayloadFor<I> {
      const p = interval === "fast"
        ? nextFast(atMs)
        : interval === "medium"
        ? nextMedium(atMs)
        : nextSlow();
      return p as PayloadFor<I>;
    },
  };
}
