/**
 * Past history for a simulated node, sent the way an agent replays its
 * outbox after an outage: over the real agent socket, joined with the host's
 * token, each sample with its own past `collected_at`. The samples come from
 * the agent's real collectors reading the simulated node (its /proc files
 * and tools, in memory) at each past moment, so the server stores exactly
 * what a live agent would have sent then.
 */
import {
  encode,
  PROTOCOL_VERSION,
  ServerMessage,
  type ServerMessage as Msg,
} from "@proxmon/shared";
import * as v from "valibot";
import { createCollectors } from "../../agent/collectors/mod.ts";
import type { ReadFile } from "../../agent/collectors/host/proc_reader.ts";
import type { CommandRunner } from "../../agent/runner.ts";
import { AGENT_VERSION } from "../../agent/version.ts";
import type { NodeModel } from "../fake_node/node_model.ts";
import { nodeRunner } from "../fake_node/node_runner.ts";
import { procFiles } from "../fake_node/proc.ts";

export interface BackfillOptions {
  /** the agent socket, ws://HOST:PORT/agent/ws */
  url: string;
  hostName: string;
  token: string;
  model: NodeModel;
  /** first and last sample times (unix ms), one fast sample every `stepMs` */
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** programs the node does not simulate (`df`), each run once */
  other: CommandRunner;
  /** samples sent and not yet acked, at most (default 200) */
  window?: number;
  /** give up after this long (default 60 s) */
  timeoutMs?: number;
}

export interface BackfillResult {
  acked: number;
  nacked: number;
  /** the first nack's reason, if any */
  firstNack: string | null;
}

// Where the collectors believe /proc is; readFile answers from memory.
const PROC = "/simulated-proc";

/** Collected fast payloads of the node at `fromMs, fromMs + stepMs, … ≤ toMs`. */
export async function* pastFastSamples(
  opts: Pick<BackfillOptions, "model" | "fromMs" | "toMs" | "stepMs" | "other">,
): AsyncGenerator<{ atMs: number; data: Record<string, unknown> }> {
  let atMs = opts.fromMs - opts.stepMs;
  let files = procFiles(opts.model, atMs);
  const readFile: ReadFile = (path) => {
    const text = files[path.slice(PROC.length + 1)];
    return Promise.resolve(
      text === undefined
        // not simulated: a file this kernel lacks (ARC, PSI), no error
        ? { ok: false, missing: true, message: `${path}: not simulated` }
        : { ok: true, text },
    );
  };
  const collectors = createCollectors({
    runner: nodeRunner(opts.model, () => atMs, opts.other),
    procDir: PROC,
    node: opts.model.node,
    agentVersion: AGENT_VERSION,
    commandTimeoutMs: 20_000,
    concurrency: 12,
    readFile,
  });
  // A rate needs a previous reading: take one a step before the first.
  await collectors.fast(atMs);
  for (atMs = opts.fromMs; atMs <= opts.toMs; atMs += opts.stepMs) {
    files = procFiles(opts.model, atMs);
    const data = await collectors.fast(atMs);
    yield { atMs, data };
  }
}

/** Joins as the host and sends its past samples; resolves once all are answered. */
export async function backfillHistory(
  opts: BackfillOptions,
): Promise<BackfillResult> {
  const window = opts.window ?? 200;
  const ws = new WebSocket(opts.url);
  const result: BackfillResult = { acked: 0, nacked: 0, firstNack: null };
  const samples = pastFastSamples(opts);
  let inFlight = 0;
  let ref = 0;
  let exhausted = false;
  let pumping = false;

  const done = new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      reject(new Error(`backfill of ${opts.hostName}: ${why}`));
      ws.close();
    };
    const timer = setTimeout(
      () => fail(`not done after ${opts.timeoutMs ?? 60_000} ms`),
      opts.timeoutMs ?? 60_000,
    );
    const finish = () => {
      clearTimeout(timer);
      ws.close();
      resolve();
    };
    // Keeps `window` samples in flight; collecting the next one is async.
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        while (!exhausted && inFlight < window) {
          const next = await samples.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          inFlight++;
          ws.send(encode({
            type: "sample",
            ref: ref++,
            interval: "fast",
            collected_at: new Date(next.value.atMs).toISOString(),
            data: next.value.data,
          }));
        }
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
      } finally {
        pumping = false;
      }
      if (exhausted && inFlight === 0) finish();
    };
    ws.onopen = () =>
      ws.send(encode({
        type: "join",
        host: opts.hostName,
        token: opts.token,
        agent_version: AGENT_VERSION,
        protocol: PROTOCOL_VERSION,
      }));
    ws.onerror = (e) =>
      fail(e instanceof ErrorEvent ? e.message : "socket error");
    ws.onclose = (e) => {
      if (!exhausted || inFlight > 0) fail(`socket closed (${e.code})`);
    };
    ws.onmessage = (e) => {
      const parsed = v.safeParse(ServerMessage, JSON.parse(String(e.data)));
      if (!parsed.success) return fail(`unexpected message ${e.data}`);
      const msg: Msg = parsed.output;
      if (msg.type === "error") return fail(`server said ${msg.reason}`);
      if (msg.type === "ack") result.acked++;
      if (msg.type === "nack") {
        result.nacked++;
        result.firstNack ??= `${msg.reason}: ${msg.message ?? ""}`;
      }
      if (msg.type === "ack" || msg.type === "nack") inFlight--;
      if (msg.type === "joined" || msg.type === "ack" || msg.type === "nack") {
        void pump();
      }
    };
  });
  await done;
  return result;
}
