/**
 * The outbox on disk: a journal that checkpoints append to, compacted by an
 * atomic rewrite at start, at shutdown, and when removed samples outnumber
 * the queued ones. The format lives in `outbox_journal.ts`.
 */
import type { Logger } from "@proxmon/shared/logger";
import { Outbox } from "./outbox.ts";
import {
  addLine,
  decodeOutbox,
  deleteLine,
  encodeJournal,
  OutboxFormatError,
} from "./outbox_journal.ts";

/** An outbox file that exists but cannot be read back. */
export class OutboxFileError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = "OutboxFileError";
  }
}

// Rewriting costs the whole queue; appending costs the change. Compact once
// the dead lines would make a restart read twice what it keeps.
const MIN_DEAD_LINES_TO_COMPACT = 1000;

export class OutboxFile {
  #deadLines = 0;
  #mustRewrite = true;

  constructor(readonly path: string) {}

  /**
   * An outbox holding the samples saved here, or an empty one when there is
   * no file. Throws {@link OutboxFileError} for a damaged file.
   */
  async load(maxSamples: number, log: Logger): Promise<Outbox> {
    const outbox = new Outbox(maxSamples, log);
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return outbox;
      throw err;
    }
    let decoded;
    try {
      decoded = decodeOutbox(text);
    } catch (err) {
      if (!(err instanceof OutboxFormatError)) throw err;
      throw new OutboxFileError(this.path, err.message);
    }
    if (decoded.tornTail) {
      log.warn(
        `${this.path}: the last line was cut short (a crash while saving); ` +
          `kept the ${decoded.samples.length} complete samples`,
      );
    }
    for (const sample of decoded.samples) outbox.add(sample);
    this.#mustRewrite = true;
    return outbox;
  }

  /**
   * Writes exactly the queued samples, atomically (a temp file, synced,
   * then renamed), so a crash mid-write leaves the previous file intact.
   */
  async rewrite(outbox: Outbox): Promise<void> {
    const body = encodeJournal(outbox.entries());
    outbox.takeChanges();
    // Until the rename lands, the file on disk is the old one: changes from
    // now on must not be appended to it.
    this.#mustRewrite = true;
    const dir = this.path.slice(0, this.path.lastIndexOf("/")) || "/";
    await Deno.mkdir(dir, { recursive: true });
    const tmp = `${this.path}.tmp`;
    await writeSynced(tmp, body, { truncate: true });
    await Deno.rename(tmp, this.path);
    this.#deadLines = 0;
    this.#mustRewrite = false;
  }

  /** Appends what changed since the last save, or compacts when due. */
  async checkpoint(outbox: Outbox): Promise<void> {
    if (this.#mustRewrite) return await this.rewrite(outbox);
    const { added, removed } = outbox.takeChanges();
    if (added.length === 0 && removed.length === 0) return;
    this.#deadLines += removed.length;
    if (
      this.#deadLines > MIN_DEAD_LINES_TO_COMPACT &&
      this.#deadLines > outbox.size
    ) {
      return await this.rewrite(outbox);
    }
    let text = removed.length > 0 ? deleteLine(removed) : "";
    for (const { seq, ...sample } of added) text += addLine(seq, sample);
    // A failed append leaves the file's tail unknown: rewrite next time.
    this.#mustRewrite = true;
    await writeSynced(this.path, text, { append: true });
    this.#mustRewrite = false;
  }
}

async function writeSynced(
  path: string,
  text: string,
  mode: { truncate: true } | { append: true },
): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    create: true,
    mode: 0o600,
    ...mode,
  });
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
    await file.sync();
  } finally {
    file.close();
  }
}
