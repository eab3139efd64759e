/**
 * The ingest core's CPU per sample, without sockets: every agent socket's
 * state machine (server/ingest/agent_socket.ts) driven through an in-memory
 * wire, over the real writer, store, latest state, exposition and alert
 * engine on a real SQLite file. bench:ingest measures the whole server over
 * TCP and WebSockets, but on a shared 2-core machine its throughput moves
 * with the neighbours' load; process CPU time per sample here moves much
 * less, so it is what to compare when changing the core.
 *
 *   deno task bench:ingest-core [--hosts=1000] [--rounds=20] [--guests=50]
 *     [--marks]
 *
 * Prints the CPU per sample (the whole process: main thread, GC threads,
 * SQLite) of the first sample of each new host (series creation: the cold
 * start) and of the steady rounds after it, one round a second of collected
 * time with a round in flight. `--guests=50` sends bench:store's 50-guest
 * payloads (20 KB) instead of the fixture's (3.9 KB). For where the time
 * goes: `deno run -A --cpu-prof scripts/bench/ingest_core_bench.ts --marks`.
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { PROTOCOL_VERSION } from "@proxmon/shared";
import {
  type AgentSocket,
  createAgentSocket,
  type Wire,
} from "../../server/ingest/agent_socket.ts";
import { createHost } from "../../server/store/hosts.ts";
import { createTestApp } from "../../server/testing/test_app.ts";
import { loadSampleData } from "./sample_fixtures.ts";
import { hostStream } from "./store_samples.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    hosts: { type: "string", default: "1000" },
    rounds: { type: "string", default: "20" },
    /** 50: payloads of bench:store's 50-guest hosts instead of the fixture */
    guests: { type: "string", default: "0" },
    /** print when each phase ran, to find it in a --cpu-prof profile */
    marks: { type: "boolean", default: false },
  },
});
const HOSTS = Number(values.hosts);
const ROUNDS = Number(values.rounds);
const WIDE = Number(values.guests) > 0;

class CountingWire implements Wire {
  acks = 0;
  other: string[] = [];
  constructor(readonly onAck: () => void) {}
  send(text: string) {
    if (text.includes('"type":"ack"')) {
      this.acks++;
      this.onAck();
    } else this.other.push(text);
  }
  close() {}
}

const cpuMs = () => {
  const u = cpuUsage();
  return (u.user + u.system) / 1000;
};

const shutdown = new AbortController();
// The server's default commit window, not the tests' zero.
await using app = await createTestApp(shutdown.signal, {
  INGEST_COMMIT_WINDOW_MS: "1000",
});
const { deps, db } = app;
await deps.alerts.start();

const data = JSON.stringify(await loadSampleData("fast"));
let acked = 0;
let wake: (() => void) | null = null;
const onAck = () => {
  acked++;
  wake?.();
};
const sockets: { socket: AgentSocket; wire: CountingWire }[] = [];
for (let i = 0; i < HOSTS; i++) {
  const name = `core-${String(i).padStart(4, "0")}`;
  const { token } = await createHost(db.database, name, Date.now());
  const wire = new CountingWire(onAck);
  const socket = createAgentSocket(deps, `127.0.0.${1 + (i % 250)}`);
  socket.open(wire);
  socket.receive(JSON.stringify({
    type: "join",
    host: name,
    token,
    agent_version: "bench",
    protocol: PROTOCOL_VERSION,
  }));
  sockets.push({ socket, wire });
}
// joined answers are sent through `other`; wait for all
while (sockets.some((s) => s.wire.other.length === 0)) {
  await new Promise((r) => setTimeout(r, 10));
}

// Rounds 1 s apart, ending now: the server refuses samples from the future.
const base = Date.now() - (ROUNDS + 3) * 1000;
let ref = 0;
// Frames are made before they are measured.
const frames: string[][] = [];
const streams = WIDE
  ? await Promise.all(sockets.map((_, i) => hostStream(i + 1)))
  : [];
for (let r = 0; r <= ROUNDS + 2; r++) {
  const atMs = base + r * 1000;
  const at = new Date(atMs).toISOString();
  frames.push(
    sockets.map((_, i) =>
      `{"type":"sample","ref":${++ref},"interval":"fast","collected_at":"${at}","data":${
        WIDE ? JSON.stringify(streams[i].next("fast", atMs)) : data
      }}`
    ),
  );
}
if (WIDE) console.log(`frame: ${frames[0][0].length} bytes`);
function send(r: number): void {
  sockets.forEach(({ socket }, i) => socket.receive(frames[r][i]));
}
async function ackedAtLeast(n: number): Promise<void> {
  while (acked < n) await new Promise<void>((r) => wake = r);
}
/** Rounds `from`..`to`, the next sent once half of the last is acked. */
async function rounds(from: number, to: number): Promise<void> {
  const start = acked;
  for (let r = from; r <= to; r++) {
    send(r);
    await ackedAtLeast(start + (r - from + 0.5) * sockets.length);
  }
  await ackedAtLeast(start + (to - from + 1) * sockets.length);
}

function measure(label: string, fn: () => Promise<void>, samples: number) {
  return async () => {
    const c0 = cpuMs(), t0 = performance.now();
    await fn();
    if (values.marks) {
      console.log(
        `${label}: from ${(t0 / 1000).toFixed(2)} s to ${
          (performance.now() / 1000).toFixed(2)
        } s of the process`,
      );
    }
    const c = cpuMs() - c0, t = performance.now() - t0;
    console.log(
      `${label}: ${samples} samples, CPU ${
        (c / samples).toFixed(3)
      } ms/sample, wall ${(t / samples).toFixed(3)} ms/sample (${
        Math.round(samples / (t / 1000))
      }/s)`,
    );
  };
}

await measure("cold (first sample of each host)", () => rounds(0, 0), HOSTS)();
await rounds(1, 2); // warm: JIT, caches
await measure("steady", () => rounds(3, ROUNDS + 2), HOSTS * ROUNDS)();
const errors = sockets.flatMap((s) => s.wire.other.slice(1)).slice(0, 3);
if (errors.length) console.log("unexpected frames:", errors);
shutdown.abort();
