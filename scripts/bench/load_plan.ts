/**
 * What the bench driver tells a load-generator process to do, and what the
 * generator reports back. Both sides import these types.
 */
import { type JoinMessage, PROTOCOL_VERSION } from "@proxmon/shared";

export interface BenchHost {
  name: string;
  token: string;
}

/** The join frame a bench agent opens its connection with. */
export function joinFrame(host: BenchHost): string {
  const join: JoinMessage = {
    type: "join",
    host: host.name,
    token: host.token,
    agent_version: "bench",
    protocol: PROTOCOL_VERSION,
  };
  return JSON.stringify(join);
}

/**
 * One stretch of load. `rate`: an open-loop, fixed number of samples per
 * second, spread round-robin over the connections (a slow server does not
 * slow the sender down). `window`: closed loop, each connection keeps
 * `inFlight` samples unacked, which finds the server's ceiling.
 */
export type Phase =
  | { name: string; mode: "rate"; durationMs: number; perSecond: number }
  | { name: string; mode: "window"; durationMs: number; inFlight: number };

/**
 * How long a fleet bench warms up before it measures. The warm-up is the
 * cold start of 1,000 hosts new to the server, all in its first second:
 * each host's first sample creates its series and records every one of its
 * states as a first change, about 1.4 ms of work against 0.3 ms for a later
 * sample (bench:ingest-core), and at 2,100/s the backlog takes 4-5 s to
 * clear on this 2-core machine. The ingest bench reports it apart ("cold
 * start").
 */
export const WARMUP_MS = { full: 10_000, quick: 6_000 } as const;

/**
 * The usual plan: a warm-up at `perSecond`, then the measured stretch
 * ("sustain") at the same rate.
 */
export function warmupAndSustain(
  plan: { warmupMs: number; sustainMs: number },
  perSecond: number,
): Phase[] {
  return [
    { name: "warmup", mode: "rate", durationMs: plan.warmupMs, perSecond },
    { name: "sustain", mode: "rate", durationMs: plan.sustainMs, perSecond },
  ];
}

export interface GeneratorConfig {
  wsUrl: string;
  hosts: BenchHost[];
  /** a file holding the fast sample's `data` object as JSON */
  payloadPath: string;
  /** collected_at of the first sample; each further one is 10 ms later */
  baseCollectedAtMs: number;
  phases: Phase[];
  /** open-loop sends skip a connection with this many unacked samples */
  maxInFlight: number;
  /** after the last phase, wait at most this long for outstanding acks */
  drainMs: number;
  /** how many joins run at once */
  connectConcurrency: number;
}

/** Lines a generator prints on stdout. */
export type GeneratorEvent =
  | {
    event: "ready";
    joined: number;
    failed: number;
    joinMs: number;
    frameBytes: number;
  }
  | { event: "result"; result: GeneratorResult };

/** What the driver sends on a generator's stdin once all are ready. */
export interface StartCommand {
  cmd: "start";
  /** epoch ms at which the first phase begins */
  atMs: number;
}

/** Ends the plan early: stop sending, drain, report. */
export interface StopCommand {
  cmd: "stop";
}

export interface GeneratorResult {
  /** per sample: send time, ms after the start */
  sentAt: number[];
  /** per sample: ack time, ms after the start, or -1 if never acked */
  ackedAt: number[];
  nacks: number;
  /** open-loop sends skipped because a connection had maxInFlight unacked */
  throttled: number;
  /** sockets that closed before the end, with the server's reasons */
  closedEarly: number;
  errors: string[];
  frameBytes: number;
}
