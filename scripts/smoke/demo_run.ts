/**
 * The demo itself, behind `scripts/demo.ts`: server, registration, the
 * simulated nodes' history through the agent socket, live agents. Loaded
 * only once the entry point has seen that the port is free, so a busy port
 * is reported without loading any of this.
 */
import { parse as parseToml } from "smol-toml";
import { denoRunner } from "../../agent/deno_runner.ts";
import { type Proc, waitFor } from "./process.ts";
import {
  fetchHost,
  registerHost,
  ROOT,
  ServerExited,
  type ServerHandle,
  type SimulatedNode,
  startAgent,
  startServer,
  startSimulatedNode,
  writeAgentConfig,
} from "./stack.ts";
import { backfillHistory } from "./history_backfill.ts";
import { formatCount } from "../../server/web/static/format.js";

const NODES = [
  { profile: "small.toml", label: "small and healthy" },
  {
    profile: "degraded_zfs23.toml",
    label: "DEGRADED pool, scrub running, PVE 9 / ZFS 2.3",
  },
  {
    profile: "zfs22.toml",
    label: "PVE 8 / ZFS 2.2 (text output), DEGRADED raidz1",
  },
];

// quicker than the agent's defaults (10 s / 60 s / 30 min), so the demo moves
// SMART every slow cycle, so pve-lab's growing sector count shows within minutes
const INTERVALS = { fast: 5, medium: 30, slow: 300, smart: 300 };

// The backfilled past: long enough for every chart range, one fast sample
// every four minutes (a 24 h chart of 300 points has a bucket per 4.8 min),
// and every two in the last six hours, so three nodes' history is in within
// seconds. The last 24 h go first, a third of its samples first: the charts
// open on them.
const HISTORY_HOURS = 48;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** The spans sent, in order, each one fast sample per `stepMs`. */
function historySpans(
  nowMs: number,
): { fromMs: number; toMs: number; stepMs: number }[] {
  const step = 4 * MINUTE_MS;
  const day = 24 * HOUR_MS;
  return [
    // the last 24 h in three interleaved passes of one sample per 12 min:
    // the first alone gives the 24 h chart over 100 points
    ...[0, 1, 2].map((k) => ({
      fromMs: nowMs - day + k * step,
      toMs: nowMs - (k === 0 ? 0 : (3 - k) * step),
      stepMs: 3 * step,
    })),
    {
      fromMs: nowMs - HISTORY_HOURS * HOUR_MS,
      toMs: nowMs - day - step,
      stepMs: step,
    },
    // between the samples of the last 6 h: one every 2 min
    {
      fromMs: nowMs - 6 * HOUR_MS + step / 2,
      toMs: nowMs - step / 2,
      stepMs: step,
    },
  ];
}

const say = (line: string) => console.log(`demo: ${line}`);
const prefixed = (name: string) => (line: string) =>
  console.log(`[${name}] ${line}`);

/** The last line a failed server printed: its own one-line reason. */
function lastLine(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.at(-1)?.replace(/^proxmon: /, "") ?? "no output";
}

interface Registered {
  node: SimulatedNode;
  dir: string;
  registered: string;
}

/** Runs the demo on `port` until a stop signal; returns the exit code. */
export async function runDemo(
  env: Record<string, string | undefined>,
  port: number,
  started: number,
): Promise<number> {
  const dir = env.DEMO_DIR ?? `${ROOT}/data/demo`;
  await Deno.remove(dir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  await Deno.mkdir(dir, { recursive: true });
  // Until the server answers, its lines are kept back: if it cannot start,
  // the demo says why in one line instead of echoing a start-up transcript.
  const early: string[] = [];
  let serverLine: (line: string) => void = (line) => void early.push(line);
  const serverOpts = {
    port,
    databaseUrl: `file:${dir}/proxmon.db`,
    // the backfilled 48 h must outlive the first retention run
    env: { RETENTION_HOURS: String(HISTORY_HOURS + 1) },
    onLine: (line: string) => serverLine(line),
  };

  // in NODES order once started; `running` also holds nodes of a failed start
  let nodes: SimulatedNode[] = [];
  const running: SimulatedNode[] = [];
  const agents: Proc[] = [];
  let server: ServerHandle | undefined;
  const stopAll = async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await server?.proc.stop();
    await Promise.all(running.map((n) => n.stop()));
  };

  const stopSignal = new Promise<Deno.Signal>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });
  const startUp = async (): Promise<ServerHandle> => {
    try {
      server = await startServer(serverOpts);
    } catch (err) {
      if (!(err instanceof ServerExited)) throw err;
      throw new DemoError(`the server did not start: ${lastLine(err.output)}`);
    }
    serverLine = prefixed("server");
    early.forEach(serverLine);

    const registered = await Promise.all(
      NODES.map(async ({ profile }): Promise<Registered> => {
        const nodeDir = `${dir}/${profile.replace(/\.toml$/, "")}`;
        const node = await startSimulatedNode(
          `${ROOT}/scripts/fake_node/profiles/${profile}`,
          nodeDir,
        );
        running.push(node);
        const text = await registerHost({
          ...serverOpts,
          name: node.model.node,
        });
        return { node, dir: nodeDir, registered: text };
      }),
    );

    nodes = registered.map((r) => r.node);
    const backfillStart = Date.now();
    const acked = await backfill(server, registered);
    say(
      `${formatCount(acked, "past sample")} (${HISTORY_HOURS} h of ${
        formatCount(registered.length, "host")
      }) sent through the agent socket in ${
        ((Date.now() - backfillStart) / 1000).toFixed(1)
      } s`,
    );

    for (const { node, dir: nodeDir, registered: text } of registered) {
      const name = node.model.node;
      const configPath = await writeAgentConfig(text, {
        node,
        dir: nodeDir,
        intervals: INTERVALS,
      });
      agents.push(
        startAgent({ name, configPath, node, onLine: prefixed(name) }),
      );
    }
    return server;
  };

  try {
    const up = await Promise.race([
      startUp().then((s) => ({ server: s })),
      stopSignal.then((sig) => ({ sig })),
    ]);
    if ("sig" in up) {
      say(`${up.sig}: stopping`);
      return 0;
    }
    const url = `http://localhost:${port}`;
    say(
      `dashboard and API at ${url} (no password: development mode, listening on 127.0.0.1 only)`,
    );
    NODES.forEach(({ label }, i) => say(`  ${nodes[i].model.node}: ${label}`));
    say("Ctrl-C stops the server, the agents and the simulated nodes");

    const names = nodes.map((n) => n.model.node);
    waitFor(
      "every host online with fast, medium and slow samples",
      async () => {
        const hosts = await Promise.all(
          names.map((n) => fetchHost(up.server.url, n)),
        );
        const ok = hosts.every((h) =>
          h?.status === "online" && h.samples.fast && h.samples.medium &&
          h.samples.slow
        );
        return ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    ).then(() => {
      say(
        `${
          formatCount(names.length, "host")
        } online with fast, medium and slow samples, ${
          ((Date.now() - started) / 1000).toFixed(1)
        } s after start: ${url}`,
      );
    }).catch((err: Error) => console.error(`demo: ${err.message}`));
    const exited = Promise.race(
      [up.server.proc, ...agents].map((p) => p.status.then(() => p)),
    );
    const outcome = await Promise.race([
      stopSignal.then((sig) => ({ sig })),
      exited.then((proc) => ({ proc })),
    ]);
    if ("proc" in outcome) {
      console.error(
        `demo: ${outcome.proc.name} exited unexpectedly:\n${
          outcome.proc.tail(20)
        }`,
      );
      return 1;
    }
    say(`${outcome.sig}: stopping`);
    return 0;
  } catch (err) {
    if (!(err instanceof DemoError)) throw err;
    console.error(`demo: ${err.message}`);
    return 1;
  } finally {
    await stopAll();
  }
}

/** A reason to stop that fits on one line. */
class DemoError extends Error {}

/**
 * Sends every node's past through the agent socket, span by span (see
 * historySpans); returns the acks.
 */
async function backfill(
  server: ServerHandle,
  hosts: Registered[],
): Promise<number> {
  const url = `${server.url.replace(/^http/, "ws")}/agent/ws`;
  const spans = historySpans(Date.now());
  const results = await Promise.all(
    hosts.map(async ({ node, registered }) => {
      const { host_id, token } = parseToml(registered) as Record<
        string,
        string
      >;
      let acked = 0;
      for (const span of spans) {
        const r = await backfillHistory({
          url,
          hostName: host_id,
          token,
          model: node.model,
          ...span,
          other: denoRunner,
        });
        if (r.nacked > 0) {
          throw new DemoError(
            `the server refused ${r.nacked} past samples of ${host_id}: ${r.firstNack}`,
          );
        }
        acked += r.acked;
      }
      return acked;
    }),
  );
  return results.reduce((a, b) => a + b, 0);
}
