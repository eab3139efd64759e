/**
 * The fleet's part of `/metrics`: for each host its up state, then the
 * series of its latest sample of each interval through the one mapping.
 *
 * A host's latest sample changes every fast interval, but a scrape reads
 * all of them: rendering 100 hosts x 50 guests (65k lines) on each scrape
 * was most of its time. So each sample's lines are rendered once, kept
 * with the payload they came from, and a scrape only joins bytes. While
 * something scrapes, samples are rendered soon after ingest stored them
 * (on a later turn, a few at a time, off the path of the agents' acks), so
 * the next scrape finds them ready; with no scraper nothing is rendered.
 */
import type { Clock } from "@proxmon/shared/clock";
import type { SamplePayload } from "@proxmon/shared";
import { createExpositionWriter, type FamilyBlocks } from "./exposition.ts";
import type { LatestState } from "./latest_state.ts";
import {
  emitPayloadSeries,
  FAMILIES,
  type HostSample,
  type MappingOptions,
} from "./metric_families.ts";

export interface FleetExposition {
  /** The fleet's series, one block set per part, for `joinExposition`. */
  render(opts: MappingOptions): Promise<FamilyBlocks[]>;
  /** Told after each commit which samples it stored. */
  observe(samples: readonly HostSample[]): void;
}

export interface FleetExpositionDeps {
  latest: LatestState;
  clock: Clock;
  /** runs the ahead-of-scrape rendering on a later turn */
  defer?: (fn: () => void) => void;
}

/** How long after a scrape new samples are still rendered ahead of the next. */
export const PRERENDER_WINDOW_MS = 10 * 60_000;
/** Samples rendered per turn ahead of a scrape (about 0.4 ms each at 50 guests). */
const PRERENDER_PER_TURN = 16;

interface Rendered {
  host: string;
  collectedAtMs: number;
  /** by `datasets` (only medium samples differ) */
  plain?: FamilyBlocks;
  datasets?: FamilyBlocks;
}

const seconds = (ms: number) => ms / 1000;
const nextTurn = (fn: () => void) => void setTimeout(fn, 0);

function renderSample(
  host: string,
  sample: SamplePayload,
  collectedAtMs: number,
  opts: MappingOptions,
): FamilyBlocks {
  const w = createExpositionWriter();
  w.emit(
    FAMILIES.hostSampleTime,
    { host, interval: sample.interval },
    seconds(collectedAtMs),
  );
  emitPayloadSeries(host, sample, opts, w.emit);
  return w.blocks();
}

/** Creates the fleet exposition over the latest state. */
export function createFleetExposition(
  { latest, clock, defer = nextTurn }: FleetExpositionDeps,
): FleetExposition {
  // Keyed by the payload object: the latest state replaces it on every
  // new sample, and a replaced payload's lines go with it.
  const cache = new WeakMap<object, Rendered>();
  let lastScrape: { atMs: number; opts: MappingOptions } | null = null;
  const pending = new Map<string, HostSample>();
  let scheduled = false;

  function blocksOf(
    host: string,
    sample: SamplePayload,
    collectedAtMs: number,
    opts: MappingOptions,
  ): FamilyBlocks {
    let r = cache.get(sample.data);
    if (
      r === undefined || r.host !== host || r.collectedAtMs !== collectedAtMs
    ) {
      r = { host, collectedAtMs };
      cache.set(sample.data, r);
    }
    const slot = opts.datasets ? "datasets" : "plain";
    return r[slot] ??= renderSample(host, sample, collectedAtMs, opts);
  }

  function drain() {
    const opts = lastScrape?.opts;
    let n = 0;
    for (const [key, s] of pending) {
      if (n++ === PRERENDER_PER_TURN) break;
      pending.delete(key);
      if (opts) blocksOf(s.hostName, s, s.collectedAtMs, opts);
    }
    if (pending.size > 0) defer(drain);
    else scheduled = false;
  }

  return {
    async render(opts) {
      lastScrape = { atMs: clock.now(), opts };
      const fleet = await latest.fleet();
      // Up and last seen change without a sample, so they are fresh.
      const state = createExpositionWriter();
      const parts: FamilyBlocks[] = [];
      for (const snap of fleet) {
        const host = snap.host.name;
        const hl = { host };
        state.emit(FAMILIES.hostUp, hl, snap.host.status === "online" ? 1 : 0);
        if (snap.host.lastSeenAt !== null) {
          state.emit(FAMILIES.hostLastSeen, hl, seconds(snap.host.lastSeenAt));
        }
        const { fast, medium, slow } = snap;
        if (fast) {
          const sample = { interval: "fast", data: fast.payload } as const;
          parts.push(blocksOf(host, sample, fast.collectedAtMs, opts));
        }
        if (medium) {
          const sample = { interval: "medium", data: medium.payload } as const;
          parts.push(blocksOf(host, sample, medium.collectedAtMs, opts));
        }
        if (slow) {
          const sample = { interval: "slow", data: slow.payload } as const;
          parts.push(blocksOf(host, sample, slow.collectedAtMs, opts));
        }
      }
      return [state.blocks(), ...parts];
    },
    observe(samples) {
      if (lastScrape === null) return;
      if (clock.now() - lastScrape.atMs > PRERENDER_WINDOW_MS) return;
      // Only the newest sample of each host and interval is worth it.
      for (const s of samples) pending.set(`${s.hostName}\0${s.interval}`, s);
      if (!scheduled && pending.size > 0) {
        scheduled = true;
        defer(drain);
      }
    },
  };
}
