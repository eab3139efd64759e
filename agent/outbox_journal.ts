/**
 * The outbox file format, as pure functions of text. Version 2 is a journal
 * of JSON lines, so a checkpoint appends only what changed (a day-long outage
 * no longer rewrites tens of MB every 30 s):
 *
 *     {"format":"proxmon-outbox","version":2}
 *     {"add":0,"sample":{"interval":"fast","collected_at":"…","data":{…}}}
 *     {"del":[0]}
 *
 * Version 1, one JSON object with every sample (written by agents up to
 * 0.1), is still read, so an upgraded agent keeps the outbox it saved.
 */
import * as v from "valibot";
import { OutboxSample } from "./outbox.ts";

export const JOURNAL_HEADER = JSON.stringify({
  format: "proxmon-outbox",
  version: 2,
});

const V1File = v.object({
  format: v.literal("proxmon-outbox"),
  version: v.literal(1),
  samples: v.array(OutboxSample),
});

const Header = v.object({
  format: v.literal("proxmon-outbox"),
  version: v.literal(2),
});

const Line = v.union([
  v.object({ add: v.number(), sample: OutboxSample }),
  v.object({ del: v.array(v.number()) }),
]);

/** A journal line that queues a sample under its seq. */
export function addLine(seq: number, sample: OutboxSample): string {
  return JSON.stringify({ add: seq, sample }) + "\n";
}

/** A journal line that removes samples (acked, nacked or dropped). */
export function deleteLine(seqs: readonly number[]): string {
  return JSON.stringify({ del: seqs }) + "\n";
}

/** A whole journal holding exactly these samples, oldest first. */
export function encodeJournal(
  entries: Iterable<{ seq: number } & OutboxSample>,
): string {
  let text = JOURNAL_HEADER + "\n";
  for (const { seq, ...sample } of entries) text += addLine(seq, sample);
  return text;
}

export interface DecodedOutbox {
  /** the queued samples, oldest first */
  samples: OutboxSample[];
  /** set when a torn last line (a crash mid-append) was passed over */
  tornTail: boolean;
}

/** Why a file is not an outbox; the caller names the file. */
export class OutboxFormatError extends Error {
  override name = "OutboxFormatError";
}

function issueText(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]) {
  const issue = issues[0];
  return `${v.getDotPath(issue) ?? "file"}: ${issue.message}`;
}

/**
 * The samples an outbox file holds, in either version. Throws
 * {@link OutboxFormatError} for anything but a torn final line, which is
 * what a crash during an append leaves and is safe to drop: its change was
 * never reported as saved.
 */
export function decodeOutbox(text: string): DecodedOutbox {
  if (text.trimStart().startsWith('{"format":"proxmon-outbox","version":2}')) {
    return decodeJournal(text);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new OutboxFormatError(`not valid JSON: ${err.message}`);
  }
  const parsed = v.safeParse(V1File, json);
  if (!parsed.success) {
    throw new OutboxFormatError(
      `not a proxmon outbox: ${issueText(parsed.issues)}`,
    );
  }
  return { samples: parsed.output.samples, tornTail: false };
}

function decodeJournal(text: string): DecodedOutbox {
  const lines = text.split("\n");
  const complete = text.endsWith("\n");
  // split() leaves "" after a final newline; without one the last is torn.
  const last = lines.pop() ?? "";
  const tornTail = !complete && last.trim() !== "";
  const header = v.safeParse(Header, JSON.parse(lines.shift() ?? ""));
  if (!header.success) {
    throw new OutboxFormatError(
      `not a proxmon outbox: ${issueText(header.issues)}`,
    );
  }
  const queued = new Map<number, OutboxSample>();
  lines.forEach((text, i) => {
    if (text.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new OutboxFormatError(
        `line ${i + 2}: not valid JSON: ${err.message}`,
      );
    }
    const line = v.safeParse(Line, json);
    if (!line.success) {
      throw new OutboxFormatError(`line ${i + 2}: ${issueText(line.issues)}`);
    }
    if ("add" in line.output) queued.set(line.output.add, line.output.sample);
    else for (const seq of line.output.del) queued.delete(seq);
  });
  return { samples: [...queued.values()], tornTail };
}
