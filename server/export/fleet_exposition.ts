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
 *
 * The joined lines of all the samples are kept too, until one of them
 * changes: a scrape of an unchanged fleet then copies nothing. Joining 6 MB
 * into fresh 64 KB chunks on every scrape was cheap work but 6 MB of
 * garbage outside the heap each time, and V8's mark-compacts that it asked
 * for were the tail of the scrape latency (9-25 ms pauses every 2-3 s
 * while scraped back to back). When they change, they are joined into a
 * buffer of a small pool, one that no response still sends (`sent()`),
 * so a changing fleet costs a copy, not a fresh 6 MB each time.
 */
import type { Clock } from "@proxmon/shared/clock";
import type { SamplePayload } from "@proxmon/shared";
import {
  createExpositionWriter,
  type FamilyBlocks,
  joinExposition,
  writeExposition,
} from "./exposition.ts";
import type { LatestState } from "./latest_state.ts";
import {
  emitPayloadSeries,
  FAMILIES,
  type HostSample,
  type MappingOptions,
} from "./metric_families.ts";

/**
 * The fleet's part of a scrape, as two pieces of exposition text, each
 * with its families' HELP and TYPE: no family is in both (nor in proxmon's
 * own counters), so they are sent one after the other as they are.
 */
export interface FleetBody {
  /** up and last seen of every host, made on each scrape */
  state: Uint8Array<ArrayBuffer>;
  /**
   * every host's latest samples' series; the same buffer while none of
   * them changed, so it must never be written to
   */
  samples: Uint8Array<ArrayBuffer>;
  /**
   * To call once the response holding `samples` was sent or failed: its
   * buffer may then be written again. Never calling it is safe (the pool
   * then makes new buffers).
   */
  sent(): void;
}

export interface FleetExposition {
  /** The fleet's series as exposition text. */
  render(opts: MappingOptions): Promise<FleetBody>;
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

/** A buffer the samples' lines are joined into, and who still reads it. */
interface Pooled {
  buf: Uint8Array<ArrayBuffer>;
  /** responses that have not said they were sent */
  readers: number;
}

/** The samples' lines joined, and the blocks they were joined from. */
interface Joined {
  parts: FamilyBlocks[];
  bytes: Uint8Array<ArrayBuffer>;
  buffer: Pooled;
}

/** Buffers kept at most: the current one of each variant, and spares. */
const POOL_SIZE = 3;

const seconds = (ms: number) => ms / 1000;
const EMPTY = new Uint8Array(0);

const sameParts = (a: FamilyBlocks[], b: FamilyBlocks[]) =>
  a.length === b.length && a.every((p, i) => p === b[i]);
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
  const joined: { plain?: Joined; datasets?: Joined } = {};
  const pool: Pooled[] = [];

  /** A buffer of `size` bytes or more that nothing reads or will read. */
  function bufferFor(size: number): Pooled {
    const current = new Set([joined.plain?.buffer, joined.datasets?.buffer]);
    const free = pool.find((p) =>
      p.readers === 0 && !current.has(p) && p.buf.length >= size
    );
    if (free !== undefined) return free;
    // Room for the fleet to grow a little before a larger one is needed.
    const made = { buf: new Uint8Array(Math.ceil(size * 1.1)), readers: 0 };
    pool.push(made);
    if (pool.length > POOL_SIZE) {
      // The oldest one not current goes: a response still sending it keeps
      // it alive until then.
      const i = pool.findIndex((p) => !current.has(p) && p !== made);
      pool.splice(i, 1);
    }
    return made;
  }

  /** The parts joined: `last` when they are the same blocks. */
  function joinedOf(parts: FamilyBlocks[], last: Joined | undefined): Joined {
    if (last !== undefined && sameParts(last.parts, parts)) return last;
    let buffer: Pooled | null = null;
    const bytes = writeExposition(parts, (size) => {
      buffer = bufferFor(size);
      return buffer.buf;
    });
    return { parts, bytes, buffer: buffer! };
  }
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
      const slot = opts.datasets ? "datasets" : "plain";
      const samples = joined[slot] = joinedOf(parts, joined[slot]);
      const buffer = samples.buffer;
      buffer.readers++;
      let sent = false;
      return {
        state: joinExposition([state.blocks()])[0] ?? EMPTY,
        samples: samples.bytes,
        sent() {
          if (sent) return;
          sent = true;
          buffer.readers--;
        },
      };
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
