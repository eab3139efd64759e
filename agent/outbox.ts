/**
 * The samples the server has not acked yet, oldest first. Bounded, so a long
 * outage costs the oldest samples instead of the agent's memory. It does no
 * I/O: `outbox_file.ts` writes it to disk (on shutdown, and through
 * `checkpoint.ts` while samples wait) from the changes it records, so
 * neither a restart nor a crash loses what the server has not acked.
 */
import * as v from "valibot";
import { Interval } from "@proxmon/shared";
import type { Logger } from "@proxmon/shared/logger";

export const OutboxSample = v.object({
  interval: Interval,
  collected_at: v.string(),
  data: v.record(v.string(), v.unknown()),
});
/** A sample as the reporter produced it, ready to be sent. */
export type OutboxSample = v.InferOutput<typeof OutboxSample>;

/** A queued sample with its sequence number, used as the wire `ref`. */
export interface OutboxEntry extends OutboxSample {
  seq: number;
}

/** What changed since the last {@link Outbox.takeChanges}. */
export interface OutboxChanges {
  added: OutboxEntry[];
  removed: number[];
}

export interface OutboxStats {
  added: number;
  acked: number;
  /** Dropped because the outbox was full. */
  dropped: number;
  nacked: number;
}

// Logging every drop during a day-long outage would flood the journal.
const DROP_LOG_EVERY = 100;

export class Outbox {
  readonly #entries = new Map<number, OutboxSample>();
  #nextSeq = 0;
  readonly stats: OutboxStats = { added: 0, acked: 0, dropped: 0, nacked: 0 };
  #added = new Map<number, OutboxSample>();
  #removed: number[] = [];

  constructor(readonly maxSamples: number, private readonly log: Logger) {
    if (!Number.isInteger(maxSamples) || maxSamples < 1) {
      throw new RangeError(`maxSamples must be a positive integer`);
    }
  }

  /** How many samples wait for an ack. */
  get size(): number {
    return this.#entries.size;
  }

  /** Grows with every change to the queue, so a saver can skip no-ops. */
  get revision(): number {
    const { added, acked, dropped, nacked } = this.stats;
    return added + acked + dropped + nacked;
  }

  /** Queues a sample, dropping the oldest when full; returns its seq. */
  add(sample: OutboxSample): number {
    while (this.#entries.size >= this.maxSamples) this.#dropOldest();
    const seq = this.#nextSeq++;
    this.#entries.set(seq, sample);
    this.#added.set(seq, sample);
    this.stats.added++;
    return seq;
  }

  /** Removes an acked sample. False if it was not queued (already gone). */
  ack(seq: number): boolean {
    const removed = this.#entries.delete(seq);
    if (removed) {
      this.stats.acked++;
      this.#forget(seq);
    }
    return removed;
  }

  /**
   * Removes a sample the server refused (retrying it would fail again) and
   * returns it, for the dead letters (dead_letter.ts), which log it; or
   * undefined if it was not queued.
   */
  nack(seq: number): OutboxSample | undefined {
    const sample = this.#entries.get(seq);
    if (!sample) return undefined;
    this.#entries.delete(seq);
    this.#forget(seq);
    this.stats.nacked++;
    return sample;
  }

  /** Up to `limit` queued entries with a seq above `afterSeq`, oldest first. */
  pending(afterSeq: number, limit: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const [seq, sample] of this.#entries) {
      if (out.length >= limit) break;
      if (seq > afterSeq) out.push({ seq, ...sample });
    }
    return out;
  }

  /** Every queued sample, oldest first. */
  samples(): OutboxSample[] {
    return [...this.#entries.values()];
  }

  #dropOldest(): void {
    const [seq, sample] = this.#entries.entries().next().value!;
    this.#entries.delete(seq);
    this.#forget(seq);
    this.stats.dropped++;
    const n = this.stats.dropped;
    if (n === 1 || n % DROP_LOG_EVERY === 0) {
      this.log.warn(
        `outbox full (${this.maxSamples} samples): dropped the oldest, a ` +
          `${sample.interval} sample from ${sample.collected_at}; ` +
          `${n} dropped since start`,
      );
    }
  }

  /** Every queued entry, oldest first. */
  entries(): OutboxEntry[] {
    return this.pending(-1, Infinity);
  }

  /**
   * The samples added and the seqs removed since the last call, for a saver
   * that appends changes instead of rewriting the queue. A sample added and
   * removed in between appears in neither.
   */
  takeChanges(): OutboxChanges {
    const changes = {
      added: [...this.#added].map(([seq, sample]) => ({ seq, ...sample })),
      removed: this.#removed,
    };
    this.#added = new Map();
    this.#removed = [];
    return changes;
  }

  #forget(seq: number): void {
    if (!this.#added.delete(seq)) this.#removed.push(seq);
  }
}
