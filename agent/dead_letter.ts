/**
 * Samples the server refused (nacked). Sending one again would fail again,
 * so it leaves the outbox, but it is not dropped in silence: it goes, with
 * the server's reason, to a JSON-lines file beside the outbox, where an
 * admin (or a newer server, later) can still find it, and the agent's log
 * line counts it. The file is bounded: past `maxBytes` it keeps the newest
 * half and drops the oldest lines.
 */
import type { Clock } from "@proxmon/shared/clock";
import type { Logger } from "@proxmon/shared/logger";
import type { OutboxSample } from "./outbox.ts";

/** One line of the dead-letter file. */
export interface DeadLetter extends OutboxSample {
  /** when the server refused it */
  refused_at: string;
  reason: string;
  message?: string;
}

/** Where refused samples go: `outbox.json` → `outbox.dead_letters.jsonl`. */
export function deadLetterPath(outboxPath: string): string {
  return outboxPath.replace(/(\.json)?$/, ".dead_letters.jsonl");
}

/** What the connection hands a refused sample to. */
export interface DeadLetterSink {
  record(sample: OutboxSample, reason: string, message?: string): void;
}

export const DEFAULT_DEAD_LETTER_BYTES = 8 * 1024 * 1024;

const encoder = new TextEncoder();

export class DeadLetters implements DeadLetterSink {
  /** samples recorded since the agent started */
  count = 0;
  #bytes: number | null = null;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    readonly maxBytes = DEFAULT_DEAD_LETTER_BYTES,
  ) {}

  /**
   * Logs the refusal in one line and appends the sample to the file, in
   * the background (the socket handler cannot wait); {@link flushed} waits.
   */
  record(sample: OutboxSample, reason: string, message?: string): void {
    this.count++;
    this.log.warn(
      `server refused ${sample.interval} sample from ${sample.collected_at}` +
        ` (${reason}${message ? `: ${message}` : ""}); kept in ${this.path}` +
        ` (${this.count} refused since start)`,
    );
    const letter: DeadLetter = {
      refused_at: new Date(this.clock.now()).toISOString(),
      reason,
      ...(message === undefined ? {} : { message }),
      ...sample,
    };
    this.#queue = this.#queue.then(() => this.#append(letter)).catch((err) =>
      this.log.error(`${this.path}: cannot keep a refused sample:`, err)
    );
  }

  /** Resolves once every recorded sample is on disk. */
  flushed(): Promise<void> {
    return this.#queue;
  }

  async #append(letter: DeadLetter): Promise<void> {
    let line = JSON.stringify(letter) + "\n";
    if (encoder.encode(line).length > this.maxBytes / 2) {
      // Too big to keep beside others: keep that it happened, not the data.
      line = JSON.stringify({ ...letter, data: null, omitted: "data" }) + "\n";
    }
    const size = encoder.encode(line).length;
    this.#bytes ??= await fileSize(this.path);
    if (this.#bytes + size > this.maxBytes) await this.#trim();
    await Deno.writeTextFile(this.path, line, { append: true, mode: 0o600 });
    this.#bytes += size;
  }

  /** Keeps the newest lines that fit in half the bound. */
  async #trim(): Promise<void> {
    const lines = (await Deno.readTextFile(this.path)).split("\n")
      .filter((l) => l !== "");
    const kept: string[] = [];
    let bytes = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      const size = encoder.encode(lines[i]).length + 1;
      if (bytes + size > this.maxBytes / 2) break;
      kept.unshift(lines[i]);
      bytes += size;
    }
    const tmp = `${this.path}.tmp`;
    await Deno.writeTextFile(tmp, kept.map((l) => l + "\n").join(""), {
      mode: 0o600,
    });
    await Deno.rename(tmp, this.path);
    this.#bytes = bytes;
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

/** Reads a dead-letter file back, oldest first; for tests and tools. */
export async function readDeadLetters(path: string): Promise<DeadLetter[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}
