/**
 * `deno task demo`: proxmon without a Proxmox node. Starts the server with
 * an embedded database in data/demo/ (wiped at start), registers three
 * simulated PVE nodes, and runs a real agent against each: a small healthy
 * node, a node with a DEGRADED pool and a scrub running, and a PVE 8 node on
 * ZFS 2.2 (text output). Development mode, no password, on 127.0.0.1.
 * Honours PORT (default 4000). Ctrl-C stops everything.
 */
import { type Proc, waitFor } from "./smoke/process.ts";
import {
  fetchHost,
  ROOT,
  type ServerHandle,
  type SimulatedNode,
  startRegisteredAgent,
  startServer,
  startSimulatedNode,
} from "./smoke/stack.ts";

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

const say = (line: string) => console.log(`demo: ${line}`);
const prefixed = (name: string) => (line: string) =>
  console.log(`[${name}] ${line}`);

async function main(env: Record<string, string | undefined>): Promise<number> {
  const started = Date.now();
  const port = Number(env.PORT ?? "4000");
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(
      `demo: PORT must be a port number, got ${JSON.stringify(env.PORT)}`,
    );
    return 1;
  }
  const dir = `${ROOT}/data/demo`;
  await Deno.remove(dir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  await Deno.mkdir(dir, { recursive: true });
  const serverOpts = {
    port,
    databaseUrl: `file:${dir}/proxmon.db`,
    onLine: prefixed("server"),
  };

  const nodes: SimulatedNode[] = [];
  const agents: Proc[] = [];
  let server: ServerHandle | undefined;
  const stopAll = async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await server?.proc.stop();
    await Promise.all(nodes.map((n) => n.stop()));
  };

  const stopSignal = new Promise<Deno.Signal>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });
  try {
    server = await startServer(serverOpts);
    for (const { profile } of NODES) {
      const nodeDir = `${dir}/${profile.replace(/\.toml$/, "")}`;
      const node = await startSimulatedNode(
        `${ROOT}/scripts/fake_node/profiles/${profile}`,
        nodeDir,
      );
      nodes.push(node);
      const name = node.model.node;
      agents.push(
        await startRegisteredAgent(serverOpts, {
          name,
          node,
          dir: nodeDir,
          intervals: INTERVALS,
          onLine: prefixed(name),
        }),
      );
    }
    const url = `http://localhost:${port}`;
    say(
      `dashboard and API at ${url} (no password: development mode, listening on 127.0.0.1 only)`,
    );
    NODES.forEach(({ label }, i) => say(`  ${nodes[i].model.node}: ${label}`));
    say("Ctrl-C stops the server, the agents and the simulated nodes");

    const names = nodes.map((n) => n.model.node);
    waitFor(
      "three online hosts with fast, medium and slow samples",
      async () => {
        const hosts = await Promise.all(
          names.map((n) => fetchHost(server!.url, n)),
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
        `${names.length} hosts online with fast, medium and slow samples, ${
          ((Date.now() - started) / 1000).toFixed(1)
        } s after start: ${url}`,
      );
    }).catch((err: Error) => console.error(`demo: ${err.message}`));
    const exited = Promise.race(
      [server.proc, ...agents].map((p) => p.status.then(() => p)),
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
  } finally {
    await stopAll();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.env.toObject()));
}
