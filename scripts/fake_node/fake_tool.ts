/**
 * Entry point of the fake PVE tools: `bin/pvesh` and friends exec
 * `deno run fake_tool.ts <tool> args…`. The node profile comes from
 * PROXMON_FAKE_NODE (a path to a TOML profile).
 */
import process from "node:process";
import { answer } from "./answer.ts";
import { buildNodeModel } from "./node_model.ts";
import { loadNodeProfile } from "./node_profile.ts";

/** The environment variable naming the node profile file. */
export const PROFILE_ENV = "PROXMON_FAKE_NODE";
/**
 * Set to a file, each call appends `tool<TAB>user s<TAB>system s` to it
 * (benchmarks); the bash tools of tool_client.bash write the same line.
 */
export const CPU_LOG_ENV = "PROXMON_FAKE_CPU_LOG";

/** The calls per tool in the lines of a CPU log. */
export function cpuLogCalls(lines: readonly string[]): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const line of lines) {
    const tool = line.split("\t")[0];
    if (tool) calls[tool] = (calls[tool] ?? 0) + 1;
  }
  return calls;
}

/** The CPU per tool, in ms, of the lines of a CPU log. */
export function cpuLogMs(lines: readonly string[]): Record<string, number> {
  const byTool: Record<string, number> = {};
  for (const line of lines) {
    const [tool, user, system] = line.split("\t");
    const ms = (Number(user) + Number(system)) * 1000;
    if (!tool || !Number.isFinite(ms)) continue;
    byTool[tool] = (byTool[tool] ?? 0) + ms;
  }
  return byTool;
}

/** Appends this call's CPU (so far) to the CPU log, when one is set. */
async function logCpu(tool: string): Promise<void> {
  // A wrapper that does not grant the variable simply logs nothing.
  const allowed = await Deno.permissions.query({
    name: "env",
    variable: CPU_LOG_ENV,
  });
  if (allowed.state !== "granted") return;
  const path = Deno.env.get(CPU_LOG_ENV);
  if (!path) return;
  const { user, system } = process.cpuUsage();
  const line = `${tool}\t${user / 1e6}\t${system / 1e6}\n`;
  await Deno.writeTextFile(path, line, { append: true });
}

async function main(argv: string[]): Promise<number> {
  const [tool, ...args] = argv;
  const path = Deno.env.get(PROFILE_ENV);
  if (!path) {
    console.error(
      `fake ${tool}: set ${PROFILE_ENV} to a node profile (scripts/fake_node/profiles/*.toml)`,
    );
    return 2;
  }
  const model = buildNodeModel(await loadNodeProfile(path));
  // pvesh pays for a Perl start-up on every call: time, then CPU
  if (tool === "pvesh" && model.latencyMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, model.latencyMs));
  }
  const result = answer(model, tool, args, Date.now());
  if (tool === "pvesh") burnCpuUntil(model.pveshCpuMs);
  const encoder = new TextEncoder();
  if (result.stderr) await writeAll(Deno.stderr, encoder.encode(result.stderr));
  if (result.stdout) await writeAll(Deno.stdout, encoder.encode(result.stdout));
  await logCpu(tool);
  return result.code;
}

/**
 * Keeps a core busy until this process has used `totalMs` of CPU, start-up
 * included, so the caller's process tree pays what a real pvesh costs.
 */
export function burnCpuUntil(totalMs: number): void {
  const usedUs = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  let sink = 0;
  while (usedUs() < totalMs * 1000) {
    for (let i = 0; i < 20_000; i++) sink += Math.sqrt(i);
  }
  if (sink < 0) console.error(sink); // keeps the loop from being optimised out
}

async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
) {
  let off = 0;
  while (off < data.length) off += await w.write(data.subarray(off));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
