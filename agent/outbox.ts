/**
 * The samples the server has not acked yet, oldest first. Bounded, so a long
 * outage costs the oldest samples instead of the agent's memory, and written
 * to disk on shutdown (and by `checkpoint.ts` while samples wait) so neither a
 * restart nor a crash loses what the server has not acked.
 */
import * as v from "valibot";
import { Interval } from "@proxmon/shared";
import type { Logger } from "./log.ts";

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

const OutboxFile = v.object({
  format: v.literal("proxmon-outbox"),
  version: v.literal(1),
  samples: v.array(OutboxSample),
});

/** An outbox file that exists but cannot be read back. */
export class OutboxFileError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = "OutboxFileError";
  }
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
    this.stats.added++;
    return seq;
  }

  /** Removes an acked sample. False if it was not queued (already gone). */
  ack(seq: number): boolean {
    const removed = this.#entries.delete(seq);
    if (removed) this.stats.acked++;
    return removed;
  }

  /** Removes a sample the server refused; retrying it would fail again. */
  nack(seq: number, reason: string, message?: string): boolean {
    const sample = this.#entries.get(seq);
    if (!sample) return false;
    this.#entries.delete(seq);
    this.stats.nacked++;
    this.log.warn(
      `server refused ${sample.interval} sample from ${sample.collected_at}` +
        ` (${reason}${message ? `: ${message}` : ""}); dropped it`,
    );
    return true;
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

  /**
   * Writes every queued sample to `path` atomically (a temp file, synced,
   * then renamed), so a crash mid-write leaves the previous file intact.
   */
  async save(path: string): Promise<void> {
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    await Deno.mkdir(dir, { recursive: true });
    const body = JSON.stringify({
      format: "proxmon-outbox",
      version: 1,
      samples: this.samples(),
    });
    const tmp = `${path}.tmp`;
    const file = await Deno.open(tmp, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o600,
    });
    try {
      await file.write(new TextEncoder().encode(body));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  }

  /**
   * An outbox holding the samples saved at `path`, or an empty one when
   * there is no file. Throws {@link OutboxFileError} for a damaged file.
   */
  static async load(
    path: string,
    maxSamples: number,
    log: Logger,
  ): Promise<Outbox> {
    const outbox = new Outbox(maxSamples, log);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return outbox;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new OutboxFileError(path, `not valid JSON: ${err.message}`);
    }
    const parsed = v.safeParse(OutboxFile, json);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      throw new OutboxFileError(
        path,
        `not a proxmon outbox: ${
          v.getDotPath(issue) ?? "file"
        }: ${issue.message}`,
      );
    }
    for (const sample of parsed.output.samples) outbox.add(sample);
    return outbox;
  }
}
