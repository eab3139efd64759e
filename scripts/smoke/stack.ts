/**
 * The pieces of a whole proxmon installation as separate real processes:
 * the server (`server/main.ts`), the host CLI (`deno task host register`),
 * and an agent (`agent/main.ts`) running against a simulated PVE node
 * (fake tools first on PATH, fake /proc). Shared by the smoke test and
 * `deno task demo`.
 */
import { buildNodeModel, type NodeModel } from "../fake_node/node_model.ts";
import { loadNodeProfile } from "../fake_node/node_profile.ts";
import { PROFILE_ENV } from "../fake_node/fake_tool.ts";
import {
  type ProcTicker,
  startProcTicker,
  writeProcTree,
} from "../fake_node/proc.ts";
import { writePmxcfs } from "../fake_node/pmxcfs.ts";
import { cgroupFiles } from "../fake_node/cgroup.ts";
import { startToolServer } from "../fake_node/tool_server.ts";
import { type Proc, spawnProc, waitFor } from "./process.ts";

/** The repository root. */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(
  /\/$/,
  "",
);
/** The fake node's profiles: `${PROFILES}/degraded_zfs23.toml`. */
export const PROFILES = `${ROOT}/scripts/fake_node/profiles`;
const FAKE_BIN = `${ROOT}/scripts/fake_node/bin`;
const DENO = Deno.execPath();

export interface ServerOptions {
  port: number;
  databaseUrl: string;
  /** Extra environment, e.g. RETENTION_HOURS. */
  env?: Record<string, string>;
  onLine?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface ServerHandle {
  proc: Proc;
  /** http://127.0.0.1:PORT */
  url: string;
}

/** The environment the server and the host CLI share. */
export function serverEnv(opts: ServerOptions): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    PORT: String(opts.port),
    HOSTNAME: "127.0.0.1",
    DATABASE_URL: opts.databaseUrl,
    PROXMON_ENV: "development",
    ...opts.env,
  };
}

/** Starts `server/main.ts` and waits until its API answers. */
export async function startServer(opts: ServerOptions): Promise<ServerHandle> {
  const proc = spawnProc("server", DENO, {
    args: ["run", "-A", `${ROOT}/server/main.ts`],
    env: serverEnv(opts),
    cwd: ROOT,
    onLine: opts.onLine,
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const answering = waitFor("the server to answer /api/hosts", async () => {
    // Another program may hold the port and accept without answering: a
    // probe that never returns would keep us from seeing the server exit.
    const res = await fetch(`${url}/api/hosts`, {
      signal: AbortSignal.timeout(1000),
    });
    await res.body?.cancel();
    return res.ok ? true : undefined;
  }, { timeoutMs: opts.startTimeoutMs ?? 30_000, intervalMs: 100 });
  const exited = proc.status.then(() => {
    throw new ServerExited(proc.tail());
  });
  try {
    await Promise.race([answering, exited]);
  } catch (err) {
    await proc.stop({ sig: "SIGKILL" });
    if (err instanceof ServerExited) throw err;
    throw new Error(
      `${(err as Error).message}\nserver output:\n${proc.tail()}`,
    );
  } finally {
    answering.catch(() => {});
    exited.catch(() => {});
  }
  return { proc, url };
}

/** The server process ended before it answered; `output` is what it printed. */
export class ServerExited extends Error {
  constructor(readonly output: string) {
    super(`the server exited early:\n${output}`);
  }
}

/**
 * Registers a host through `deno task host register NAME` and returns the
 * agent.toml it prints (server_url, host_id, token).
 */
export async function registerHost(
  opts: ServerOptions & { name: string },
): Promise<string> {
  const out = await new Deno.Command(DENO, {
    args: ["task", "--quiet", "host", "register", opts.name],
    env: serverEnv(opts),
    cwd: ROOT,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `host register ${opts.name} failed (exit ${out.code}):\n${
        text.decode(out.stderr)
      }`,
    );
  }
  return text.decode(out.stdout);
}

export interface AgentSettings {
  node: string;
  procDir: string;
  /** the simulated pmxcfs, for `[pve] config_dir` */
  pveDir: string;
  /** the simulated guests' cgroups, for `cgroup_dir` */
  cgroupDir?: string;
  outboxPath: string;
  /** `smart` (seconds between SMART reads) defaults to the agent's 30 min */
  intervals: { fast: number; medium: number; slow: number; smart?: number };
  commandTimeoutSeconds?: number;
}

/** The CLI's agent.toml plus what a simulated node needs. */
export function agentToml(registered: string, s: AgentSettings): string {
  // the CLI prints only top-level keys, so more can follow before a table
  return `${registered.trimEnd()}\n` +
    `node = ${JSON.stringify(s.node)}\n` +
    `proc_dir = ${JSON.stringify(s.procDir)}\n` +
    (s.cgroupDir ? `cgroup_dir = ${JSON.stringify(s.cgroupDir)}\n` : "") +
    `outbox_path = ${JSON.stringify(s.outboxPath)}\n` +
    `command_timeout_seconds = ${s.commandTimeoutSeconds ?? 20}\n` +
    `\n[intervals]\nfast_seconds = ${s.intervals.fast}\n` +
    `medium_seconds = ${s.intervals.medium}\nslow_seconds = ${s.intervals.slow}\n` +
    (s.intervals.smart ? `smart_seconds = ${s.intervals.smart}\n` : "") +
    `\n[pve]\nconfig_dir = ${JSON.stringify(s.pveDir)}\n`;
}

export interface SimulatedNode {
  model: NodeModel;
  procDir: string;
  /** its pmxcfs (guest config files), as /etc/pve */
  pveDir: string;
  /** its guests' cgroup pressure files, as /sys/fs/cgroup */
  cgroupDir: string;
  /**
   * PATH with the fake tools first, the profile for them, and the port of
   * the tool server that answers the cheap ones (zpool, zfs, smartctl,
   * sensors) at about a real tool's cost.
   */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Loads a profile and keeps a fake /proc for it under `dir`. */
export async function startSimulatedNode(
  profilePath: string,
  dir: string,
): Promise<SimulatedNode> {
  const model = buildNodeModel(await loadNodeProfile(profilePath));
  const procDir = `${dir}/proc`;
  const ticker: ProcTicker = await startProcTicker({ dir: procDir, model });
  const pveDir = await writePmxcfs(`${dir}/pve`, model);
  const cgroupDir = `${dir}/cgroup`;
  // the fake guests' pressure is constant, so one write does
  await writeProcTree(cgroupDir, cgroupFiles(model, Date.now()));
  const denoDir = DENO.slice(0, DENO.lastIndexOf("/"));
  const tools = startToolServer();
  return {
    model,
    procDir,
    pveDir,
    cgroupDir,
    env: {
      PATH: `${FAKE_BIN}:${denoDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      [PROFILE_ENV]: profilePath,
      ...tools.env,
    },
    stop: async () => {
      await ticker.stop();
      await tools.close();
    },
  };
}

/** Starts `agent/main.ts --config PATH` on a simulated node. */
export function startAgent(opts: {
  name: string;
  configPath: string;
  node: SimulatedNode;
  onLine?: (line: string) => void;
}): Proc {
  return spawnProc(`agent ${opts.name}`, DENO, {
    args: ["run", "-A", `${ROOT}/agent/main.ts`, "--config", opts.configPath],
    env: { HOME: Deno.env.get("HOME") ?? "/tmp", ...opts.node.env },
    cwd: ROOT,
    onLine: opts.onLine,
  });
}

/**
 * Registers host `name` through the CLI, writes `dir/agent.toml` for the
 * simulated node (outbox in `dir` too) and starts the real agent with it.
 */
export async function startRegisteredAgent(
  server: ServerOptions,
  agent: {
    name: string;
    node: SimulatedNode;
    dir: string;
    intervals: AgentSettings["intervals"];
    onLine?: (line: string) => void;
  },
): Promise<Proc> {
  const { name, node } = agent;
  const registered = await registerHost({ ...server, name });
  const configPath = await writeAgentConfig(registered, agent);
  return startAgent({ name, configPath, node, onLine: agent.onLine });
}

/**
 * Writes `dir/agent.toml` for a simulated node from what `host register`
 * printed (its outbox in `dir` too); returns the file's path.
 */
export async function writeAgentConfig(
  registered: string,
  agent: {
    node: SimulatedNode;
    dir: string;
    intervals: AgentSettings["intervals"];
  },
): Promise<string> {
  const configPath = `${agent.dir}/agent.toml`;
  await Deno.writeTextFile(
    configPath,
    agentToml(registered, {
      node: agent.node.model.node,
      procDir: agent.node.procDir,
      pveDir: agent.node.pveDir,
      cgroupDir: agent.node.cgroupDir,
      outboxPath: `${agent.dir}/outbox.json`,
      intervals: agent.intervals,
    }),
  );
  return configPath;
}

/** `GET /api/hosts/NAME` as JSON, or undefined for a 404. */
export async function fetchHost(
  url: string,
  name: string,
): Promise<HostView | undefined> {
  const res = await fetch(`${url}/api/hosts/${encodeURIComponent(name)}`);
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    throw new Error(
      `GET /api/hosts/${name}: HTTP ${res.status}: ${await res.text()}`,
    );
  }
  return await res.json() as HostView;
}

/** The part of `GET /api/hosts/:name` the end-to-end runs look at. */
export interface HostView {
  name: string;
  status: "online" | "offline";
  agent_version: string | null;
  last_seen_at: string | null;
  samples: Partial<
    Record<
      "fast" | "medium" | "slow",
      { collected_at: string; payload: Record<string, unknown> }
    >
  >;
}
