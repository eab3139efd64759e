/**
 * The server's memory under frame floods on the agent socket (issue 12, 6.):
 * 10k garbage frames from a socket that never joined, then over an
 * authenticated agent socket 10k garbage frames, 10k samples and 10k pings,
 * each sent as fast as the socket takes them. The server's RSS is read after
 * each flood has been answered, its peak while it runs, and again a minute
 * after the last one.
 *
 * The server runs from `memory_probe_server.ts`, which on SIGUSR2 logs the
 * V8 heap beside the RSS, so the report says how much of the RSS is live
 * JavaScript objects and how much is memory V8 or the allocator kept.
 */
import net from "node:net";
import { PROTOCOL_VERSION } from "@proxmon/shared";
import { registerBenchHosts } from "./bench_hosts.ts";
import { baselineFigure, type Figure, targetFigure } from "./figure.ts";
import type { BenchHost } from "./load_plan.ts";
import { readProc } from "./proc_stats.ts";
import { loadSampleData } from "./sample_fixtures.ts";
import { startServer } from "./server_process.ts";

const MB = 1024 * 1024;
const FRAMES = 10_000;
/** frames from the client that never reads: 40 MB, answers of 55 MB */
const UNREAD_FRAMES = 200_000;

export interface FloodOptions {
  dir: string;
  log: (msg: string) => void;
  /** how long after the last flood the RSS is read again */
  settleMs: number;
  /** extra V8 flags for the server (BENCH_EDGES_V8_FLAGS), for a diagnosis */
  v8Flags: string[];
  /**
   * BENCH_EDGES_DIAGNOSE=1: after each reading the server also runs a full
   * GC and malloc_trim and reads again (memory_probe_server.ts). That
   * changes the figures after it, so it is off for a run that reports.
   */
  diagnose: boolean;
}

async function rssMb(pid: number): Promise<number> {
  const r = await readProc(pid, () => Date.now());
  return r === null ? NaN : r.rssBytes / MB;
}

/** Polls the RSS until stopped; returns the highest reading. */
function watchPeak(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssMb(pid));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Math.max(peak, await rssMb(pid));
    },
  };
}

/** A WebSocket that counts the server's replies by type. */
class FloodSocket {
  replies = 0;
  byType: Record<string, number> = {};
  closedWith: number | null = null;
  private waiters: { n: number; resolve(): void }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      let type = "unparsable";
      try {
        const msg = JSON.parse(String(ev.data));
        type = msg.type === "error" ? `error:${msg.reason}` : String(msg.type);
      } catch {
        // counted as unparsable
      }
      this.byType[type] = (this.byType[type] ?? 0) + 1;
      this.replies++;
      this.wake();
    };
    ws.onclose = (ev) => {
      this.closedWith = ev.code;
      this.wake(true);
    };
  }

  private wake(all = false) {
    this.waiters = this.waiters.filter((w) => {
      if (!all && this.replies < w.n) return true;
      w.resolve();
      return false;
    });
  }

  static open(url: string): Promise<FloodSocket> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new FloodSocket(ws));
      ws.onerror = () => reject(new Error(`could not open ${url}`));
    });
  }

  /** Resolves once `n` replies in all have come, or the socket closed. */
  until(n: number): Promise<void> {
    if (this.replies >= n || this.closedWith !== null) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async join(host: BenchHost): Promise<void> {
    const before = this.replies;
    this.ws.send(JSON.stringify({
      type: "join",
      host: host.name,
      token: host.token,
      agent_version: "edges-bench",
      protocol: PROTOCOL_VERSION,
    }));
    await this.until(before + 1);
    if (!this.byType.joined) {
      throw new Error(`join refused: ${JSON.stringify(this.byType)}`);
    }
  }

  close() {
    this.ws.close();
  }
}

/** Frames that are not the protocol: bad JSON, non-objects, unknown types. */
function garbageFrame(i: number): string {
  switch (i % 4) {
    case 0:
      return `{"type":"sample","ref":${i},` + "x".repeat(160);
    case 1:
      return JSON.stringify([i, "not", "an", "object"]);
    case 2:
      return JSON.stringify({ type: `bogus-${i}`, pad: "y".repeat(120) });
    default:
      return "\u0000\u0001garbage " + String(i).repeat(20);
  }
}

interface FloodResult {
  name: string;
  ms: number;
  replies: number;
  byType: Record<string, number>;
  closedWith: number | null;
  rssAfter: number;
  rssPeak: number;
}

/**
 * Sends FRAMES frames, all at once, or (`window`) at most that many ahead
 * of the replies, as an agent keeps its samples in flight; resolves once
 * every one is answered or the socket closed.
 */
async function flood(
  pid: number,
  name: string,
  socket: FloodSocket,
  frames: (i: number) => string,
  log: (msg: string) => void,
  window = FRAMES,
): Promise<FloodResult> {
  const peak = watchPeak(pid);
  const before = socket.replies;
  const beforeTypes = { ...socket.byType };
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((r) =>
    timer = setTimeout(() => r(false), 300_000)
  );
  let done: boolean = true;
  for (let i = 0; i < FRAMES && socket.closedWith === null && done;) {
    const upTo = Math.min(FRAMES, socket.replies - before + window);
    for (; i < upTo; i++) socket.ws.send(frames(i));
    done = await Promise.race([
      socket.until(before + Math.min(FRAMES, i - window + 1)).then(() => true),
      timedOut,
    ]);
  }
  if (done) {
    done = await Promise.race([
      socket.until(before + FRAMES).then(() => true),
      timedOut,
    ]);
  }
  clearTimeout(timer);
  const ms = performance.now() - t0;
  const rssPeak = await peak.stop();
  const rssAfter = await rssMb(pid);
  const byType = Object.fromEntries(
    Object.entries(socket.byType)
      .map(([k, v]) => [k, v - (beforeTypes[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );
  const result = {
    name,
    ms: Math.round(ms),
    replies: socket.replies - before,
    byType,
    closedWith: socket.closedWith,
    rssAfter,
    rssPeak,
  };
  log(
    `edges floods: ${name}: ${result.replies} replies in ${result.ms} ms${
      done ? "" : " (timed out)"
    }${
      result.closedWith === null ? "" : ` (closed ${result.closedWith})`
    }, RSS ${rssAfter.toFixed(1)} MB (peak ${rssPeak.toFixed(1)}) ${
      JSON.stringify(byType)
    }`,
  );
  return result;
}

/** One client-to-server WebSocket text frame (masked, as RFC 6455 wants). */
function maskedFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  if (payload.length >= 65_536) throw new Error("frame too long for this");
  const head = payload.length < 126
    ? [0x81, 0x80 | payload.length]
    : [0x81, 0x80 | 126, payload.length >> 8, payload.length & 255];
  const mask = [0x12, 0x34, 0x56, 0x78];
  const out = new Uint8Array(head.length + 4 + payload.length);
  out.set(head);
  out.set(mask, head.length);
  const at = head.length + 4;
  for (let i = 0; i < payload.length; i++) {
    out[at + i] = payload[i] ^ mask[i & 3];
  }
  return out;
}

interface UnreadResult {
  sentMb: number;
  /** the server closed the connection (its send backlog cap) */
  closedByServer: boolean;
  /** what left the client's own buffer (the kernel's buffers hold part) */
  takenMb: number;
  rssWhileHeld: number;
  rssAfterClose: number;
}

/**
 * A client that never reads: a raw WebSocket (never joined) that sends
 * `count` frames, each answered with an unknown_type error, and reads
 * none of the answers. Waits until the client's buffer stops draining,
 * reads the server's RSS, then closes and reads it again.
 */
async function unreadFlood(
  pid: number,
  port: number,
  count: number,
  log: (msg: string) => void,
): Promise<UnreadResult> {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise((r, j) => socket.once("connect", r).once("error", j));
  socket.on("error", () => {}); // the server may reset it; that is a close
  let closedByServer = false;
  socket.on("close", () => closedByServer = true);
  socket.write(
    "GET /agent/ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n" +
      "connection: Upgrade\r\nsec-websocket-version: 13\r\n" +
      "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  );
  await new Promise((r) => socket.once("data", r)); // the 101
  socket.pause();
  const frame = maskedFrame(JSON.stringify({ type: "u".repeat(180) }));
  const batch = 5000;
  const chunk = new Uint8Array(frame.length * batch);
  for (let i = 0; i < batch; i++) chunk.set(frame, i * frame.length);
  for (let sent = 0; sent < count; sent += batch) socket.write(chunk);
  const sentBytes = Math.ceil(count / batch) * chunk.length;
  // until the client's buffer has not moved for 2 s (held, or all sent)
  let last = -1;
  for (let still = 0; still < 8;) {
    await new Promise((r) => setTimeout(r, 250));
    still = socket.writableLength === last ? still + 1 : 0;
    last = socket.writableLength;
  }
  const result: UnreadResult = {
    sentMb: sentBytes / MB,
    closedByServer,
    takenMb: (sentBytes - socket.writableLength) / MB,
    rssWhileHeld: await rssMb(pid),
    rssAfterClose: NaN,
  };
  socket.destroy();
  await new Promise((r) => setTimeout(r, 2000));
  result.rssAfterClose = await rssMb(pid);
  log(
    `edges floods: a client that never reads sent ${
      result.sentMb.toFixed(1)
    } MB of frames, ${
      result.closedByServer
        ? "and the server closed it"
        : `${result.takenMb.toFixed(1)} MB left it`
    }; RSS ${result.rssWhileHeld.toFixed(1)} MB while it was connected, ${
      result.rssAfterClose.toFixed(1)
    } MB 2 s after it closed`,
  );
  return result;
}

/** Asks the probe server for a heap reading; returns it once written. */
async function heapReading(
  pid: number,
  path: string,
): Promise<Record<string, unknown> | null> {
  const lines = async () => {
    try {
      return (await Deno.readTextFile(path)).trim().split("\n").filter(
        Boolean,
      );
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
  };
  const had = (await lines()).length;
  Deno.kill(pid, "SIGUSR2");
  for (let i = 0; i < 100; i++) {
    const now = await lines();
    if (now.length > had) return JSON.parse(now[now.length - 1]);
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

/** Runs the floods against a fresh server; returns figures and details. */
export async function runFloods(
  opts: FloodOptions,
): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const dbPath = `${opts.dir}/floods.db`;
  const [host] = await registerBenchHosts(dbPath, "flood-", 1);
  const memoryLog = `${opts.dir}/floods-memory.jsonl`;
  const v8Flags = opts.diagnose && !opts.v8Flags.includes("--expose-gc")
    ? [...opts.v8Flags, "--expose-gc"]
    : opts.v8Flags;
  const server = await startServer({
    entry: "scripts/bench/memory_probe_server.ts",
    dbPath,
    logPath: `${opts.dir}/floods-server.log`,
    env: {
      BENCH_MEMORY_LOG: memoryLog,
      BENCH_MEMORY_DIAGNOSE: opts.diagnose ? "1" : "0",
    },
    denoArgs: v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : [],
  });
  const heap: Record<string, unknown> = {};
  const results: FloodResult[] = [];
  let exitCode: number | null = null;
  let idle = NaN;
  let settled = NaN;
  let burstClosed: number | null = null;
  let unread: UnreadResult | null = null;
  try {
    await new Promise((r) => setTimeout(r, 1000));
    idle = await rssMb(server.pid);
    heap.idle = await heapReading(server.pid, memoryLog);
    opts.log(`edges floods: server idle at ${idle.toFixed(1)} MB`);

    const stranger = await FloodSocket.open(server.wsUrl);
    results.push(
      await flood(
        server.pid,
        "garbage, not joined",
        stranger,
        garbageFrame,
        opts.log,
      ),
    );
    stranger.close();
    heap["garbage, not joined"] = await heapReading(server.pid, memoryLog);

    const agent = await FloodSocket.open(server.wsUrl);
    await agent.join(host);
    results.push(
      await flood(server.pid, "garbage, joined", agent, garbageFrame, opts.log),
    );
    heap["garbage, joined"] = await heapReading(server.pid, memoryLog);

    const data = await loadSampleData("fast");
    const start = Date.now() - (FRAMES + 1) * 10_000;
    const sample = (i: number) =>
      JSON.stringify({
        type: "sample",
        ref: i + 1,
        interval: "fast",
        collected_at: new Date(start + i * 10_000).toISOString(),
        data,
      });
    results.push(
      await flood(
        server.pid,
        "samples, 100 in flight (an agent's window)",
        agent,
        sample,
        opts.log,
        100,
      ),
    );
    heap["samples, 100 in flight"] = await heapReading(server.pid, memoryLog);
    const ping = JSON.stringify({ type: "ping" });
    results.push(await flood(server.pid, "pings", agent, () => ping, opts.log));
    heap.pings = await heapReading(server.pid, memoryLog);
    agent.close();

    // 10k more, 5 s after each of those, all at once
    const burst = await FloodSocket.open(server.wsUrl);
    await burst.join(host);
    const later = (i: number) =>
      sample(i).replace(
        /"collected_at":"[^"]*"/,
        `"collected_at":"${
          new Date(start + i * 10_000 + 5_000).toISOString()
        }"`,
      );
    results.push(
      await flood(server.pid, "samples, all at once", burst, later, opts.log),
    );
    burstClosed = burst.closedWith;
    heap["samples, all at once"] = await heapReading(server.pid, memoryLog);
    burst.close();

    unread = await unreadFlood(
      server.pid,
      Number(new URL(server.baseUrl).port),
      UNREAD_FRAMES,
      opts.log,
    );
    heap.unread = await heapReading(server.pid, memoryLog);

    await new Promise((r) => setTimeout(r, opts.settleMs));
    settled = await rssMb(server.pid);
    heap.settled = await heapReading(server.pid, memoryLog);
    opts.log(
      `edges floods: ${opts.settleMs / 1000} s later RSS ${
        settled.toFixed(1)
      } MB`,
    );
  } finally {
    exitCode = await server.stop();
  }
  // what the server said about the floods, for the report
  const serverLog = await Deno.readTextFile(`${opts.dir}/floods-server.log`);
  const said = (text: string) =>
    serverLog.split("\n").filter((l) => l.includes(text)).length;
  const logLines = {
    notReading: said("does not read its answers"),
    unackedCap: said("without waiting for their acks"),
  };
  const idleBaseline = { label: "RSS idle", value: idle };
  const figures: Figure[] = [];
  for (const r of results) {
    figures.push(
      baselineFigure(
        `server RSS after 10k frames: ${r.name}`,
        r.rssAfter,
        "MB",
        "info",
        idleBaseline,
      ),
    );
  }
  const peak = Math.max(...results.map((r) => r.rssPeak));
  figures.push(
    baselineFigure(
      "server RSS at the floods' peak",
      peak,
      "MB",
      "info",
      idleBaseline,
    ),
  );
  figures.push(
    baselineFigure(
      `server RSS ${opts.settleMs / 1000} s after the last flood`,
      settled,
      "MB",
      "info",
      idleBaseline,
    ),
  );
  const unanswered = results
    .filter((r) => r.name !== "samples, all at once")
    .reduce((n, r) => n + FRAMES - r.replies, 0);
  figures.push(
    targetFigure(
      "frames left unanswered in the floods that wait for answers",
      unanswered,
      "frames",
      "<=",
      0,
    ),
  );
  if (unread) {
    figures.push(
      baselineFigure(
        `server RSS while a client that never reads holds ${
          unread.sentMb.toFixed(0)
        } MB of frames`,
        unread.rssWhileHeld,
        "MB",
        "info",
        idleBaseline,
      ),
    );
  }
  return {
    figures,
    details: {
      idleMb: idle,
      floods: results,
      heap,
      burstClosedWith: burstClosed,
      logLines,
      unread,
      v8Flags,
      diagnose: opts.diagnose,
      exitCode,
    },
  };
}
