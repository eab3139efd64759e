/**
 * A load-generator process: holds many agent connections to the server, each
 * joined as its own host, and sends fast samples on a plan it receives on
 * stdin. Run by the bench driver, never by hand:
 *
 *   stdin  line 1: GeneratorConfig; line 2: StartCommand; then optionally
 *          a StopCommand, which cuts the plan short and starts the drain
 *   stdout one "ready" event once every connection has joined, then one
 *          "result" event after the plan and the drain
 */
import {
  type BenchHost,
  type GeneratorConfig,
  type GeneratorEvent,
  type GeneratorResult,
  joinFrame,
  type Phase,
  type StartCommand,
  type StopCommand,
} from "./load_plan.ts";
import { lines } from "./lines.ts";

/** One agent connection: its socket and the samples it still waits on. */
class AgentConnection {
  readonly pending = new Map<number, number>(); // ref -> sample index
  nextRef = 1;
  seq = 0;
  open = false;
  closeReason = "";

  constructor(readonly ws: WebSocket, readonly host: BenchHost) {}
}

/** Samples sent and acked, shared by every connection of this process. */
class Ledger {
  readonly sentAt: number[] = [];
  readonly ackedAt: number[] = [];
  nacks = 0;
  throttled = 0;
  readonly errors: string[] = [];

  constructor(readonly now: () => number) {}

  sent(): number {
    this.sentAt.push(this.now());
    this.ackedAt.push(-1);
    return this.sentAt.length - 1;
  }

  error(msg: string): void {
    if (this.errors.length < 20) this.errors.push(msg);
  }
}

function sampleFrame(
  conn: AgentConnection,
  ref: number,
  baseMs: number,
  dataJson: string,
): string {
  const at = new Date(baseMs + conn.seq++ * 10).toISOString();
  return `{"type":"sample","ref":${ref},"interval":"fast","collected_at":"${at}","data":${dataJson}}`;
}

/** Opens and joins one connection; resolves once `joined` arrives. */
function join(
  wsUrl: string,
  host: BenchHost,
  onMessage: (conn: AgentConnection, msg: Record<string, unknown>) => void,
  onClose: (conn: AgentConnection) => void,
): Promise<AgentConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    const conn = new AgentConnection(ws, host);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`${host.name}: no joined within 30 s`));
    }, 30_000);
    ws.onopen = () => {
      ws.send(joinFrame(host));
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string);
      if (!conn.open) {
        clearTimeout(timer);
        if (msg.type === "joined") {
          conn.open = true;
          resolve(conn);
        } else {
          reject(new Error(`${host.name}: join answered ${ev.data}`));
        }
        return;
      }
      onMessage(conn, msg);
    };
    ws.onclose = (ev) => {
      clearTimeout(timer);
      conn.closeReason = `${ev.code} ${ev.reason}`;
      if (conn.open) {
        conn.open = false;
        onClose(conn);
      } else reject(new Error(`${host.name}: closed ${ev.code} ${ev.reason}`));
    };
  });
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]).then(
        (value) => ({ status: "fulfilled" as const, value }),
        (reason) => ({ status: "rejected" as const, reason }),
      );
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/** Drives the phases over the joined connections, recording into `ledger`. */
async function runPlan(
  cfg: GeneratorConfig,
  conns: AgentConnection[],
  dataJson: string,
  ledger: Ledger,
  state: PlanState,
): Promise<void> {
  const send = (conn: AgentConnection) => {
    const ref = conn.nextRef++;
    const idx = ledger.sent();
    conn.pending.set(ref, idx);
    conn.ws.send(sampleFrame(conn, ref, cfg.baseCollectedAtMs, dataJson));
  };
  let rr = 0;
  const sendNextOpenLoop = () => {
    for (let tries = 0; tries < conns.length; tries++) {
      const conn = conns[rr];
      rr = (rr + 1) % conns.length;
      if (conn.open && conn.pending.size < cfg.maxInFlight) {
        send(conn);
        return;
      }
    }
    ledger.throttled++;
  };
  state.topUp = (conn: AgentConnection) => {
    const phase = state.phase;
    if (phase?.mode !== "window") return;
    while (conn.open && conn.pending.size < phase.inFlight) send(conn);
  };

  for (const phase of cfg.phases) {
    if (state.stopped) break;
    const start = ledger.now();
    state.phase = phase;
    if (phase.mode === "window") {
      for (const c of conns) state.topUp(c);
      while (!state.stopped && ledger.now() - start < phase.durationMs) {
        await sleep(Math.min(50, phase.durationMs - (ledger.now() - start)));
      }
    } else {
      let sentHere = 0;
      while (!state.stopped) {
        const elapsed = ledger.now() - start;
        if (elapsed >= phase.durationMs) break;
        const due = Math.floor((phase.perSecond * elapsed) / 1000) - sentHere;
        for (let i = 0; i < due; i++) sendNextOpenLoop();
        sentHere += Math.max(0, due);
        await sleep(5);
      }
    }
  }
  state.phase = null;
}

const sleep = (ms: number) =>
  new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

interface PlanState {
  phase: Phase | null;
  /** set by a StopCommand */
  stopped: boolean;
  topUp?: (conn: AgentConnection) => void;
}

async function main(): Promise<void> {
  const input = lines(Deno.stdin.readable);
  const first = await input.next();
  if (first.done) throw new Error("no config on stdin");
  const cfg = JSON.parse(first.value) as GeneratorConfig;
  const dataJson = JSON.stringify(
    JSON.parse(await Deno.readTextFile(cfg.payloadPath)),
  );
  const out = Deno.stdout.writable.getWriter();
  const emit = (e: GeneratorEvent) =>
    out.write(new TextEncoder().encode(JSON.stringify(e) + "\n"));

  let t0 = performance.now();
  const ledger = new Ledger(() => performance.now() - t0);
  const state: PlanState = { phase: null, stopped: false };
  let closedEarly = 0;
  const onMessage = (conn: AgentConnection, msg: Record<string, unknown>) => {
    if (msg.type === "ack" || msg.type === "nack") {
      const idx = conn.pending.get(msg.ref as number);
      if (idx === undefined) {
        ledger.error(
          `${conn.host.name}: ${msg.type} for unknown ref ${msg.ref}`,
        );
        return;
      }
      conn.pending.delete(msg.ref as number);
      if (msg.type === "ack") ledger.ackedAt[idx] = ledger.now();
      else {
        ledger.nacks++;
        ledger.error(`${conn.host.name}: nack ${msg.reason} ${msg.message}`);
      }
      state.topUp?.(conn);
    } else if (msg.type === "error") {
      ledger.error(`${conn.host.name}: error ${msg.reason}`);
    }
  };
  const onClose = (conn: AgentConnection) => {
    closedEarly++;
    ledger.error(`${conn.host.name}: closed early ${conn.closeReason}`);
  };

  const joinStart = performance.now();
  const settled = await pool(
    cfg.hosts,
    cfg.connectConcurrency,
    (h) => join(cfg.wsUrl, h, onMessage, onClose),
  );
  const conns: AgentConnection[] = [];
  for (const s of settled) {
    if (s.status === "fulfilled") conns.push(s.value);
    else ledger.error(String(s.reason?.message ?? s.reason));
  }
  const frameBytes = new TextEncoder().encode(
    sampleFrame(
      new AgentConnection(null as unknown as WebSocket, cfg.hosts[0]),
      1,
      cfg.baseCollectedAtMs,
      dataJson,
    ),
  ).length;
  await emit({
    event: "ready",
    joined: conns.length,
    failed: cfg.hosts.length - conns.length,
    joinMs: performance.now() - joinStart,
    frameBytes,
  });

  const second = await input.next();
  if (second.done) throw new Error("no start command on stdin");
  const start = JSON.parse(second.value) as StartCommand;
  await sleep(start.atMs - Date.now());
  t0 = performance.now();
  (async () => {
    for await (const line of input) {
      if ((JSON.parse(line) as StopCommand).cmd === "stop") {
        state.stopped = true;
      }
    }
  })();

  if (conns.length > 0) await runPlan(cfg, conns, dataJson, ledger, state);

  const drainUntil = ledger.now() + cfg.drainMs;
  while (
    ledger.now() < drainUntil && conns.some((c) => c.open && c.pending.size)
  ) await sleep(20);
  for (const c of conns) {
    if (c.open) {
      c.open = false;
      c.ws.close(1000, "bench done");
    }
  }
  const result: GeneratorResult = {
    sentAt: ledger.sentAt.map((x) => Math.round(x * 10) / 10),
    ackedAt: ledger.ackedAt.map((x) => Math.round(x * 10) / 10),
    nacks: ledger.nacks,
    throttled: ledger.throttled,
    closedEarly,
    errors: ledger.errors,
    frameBytes,
  };
  await emit({ event: "result", result });
  await out.close();
  Deno.exit(0);
}

if (import.meta.main) await main();
