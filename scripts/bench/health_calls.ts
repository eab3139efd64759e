/**
 * What the issue-17 collectors (backups, replication, temperatures, SMART)
 * cost the agent at the default intervals: the real agent on the simulated
 * 50-guest node (bench50, with a nightly job to PBS, two replicated guests,
 * lm-sensors and four NVMe drives), every command it runs logged by a PATH
 * wrapper, and its process-tree CPU (itself plus reaped children) read from
 * /proc over a window after the first cycles.
 *
 *   deno run -A scripts/bench/health_calls.ts [window minutes, default 6]
 *
 * The fake tools are Deno programs (~0.1 s of CPU per start), so the tree
 * CPU here is not a real node's; the call counts are, and the report prices
 * the pvesh calls at a real node's 0.3–1 s of Perl start-up each.
 */
import { freePort } from "@proxmon/shared/free_port";
import {
  ROOT,
  startRegisteredAgent,
  startServer,
  startSimulatedNode,
} from "../smoke/stack.ts";
import { TOOLS } from "../fake_node/answer.ts";
import { readProc } from "./proc_stats.ts";

const TARGET_S_PER_MIN = 3; // the pvesh-fallback target (issue 11)

/** Whether a logged command line belongs to the issue-17 collectors. */
export function isHealthCall(line: string): boolean {
  if (line.startsWith("smartctl") || line.startsWith("sensors")) return true;
  return /^pvesh get (\/cluster\/backup|\/nodes\/[^/ ]+\/(tasks|replication|storage --content backup|storage\/[^/ ]+\/content))/
    .test(line);
}

async function main(minutes: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-health-bench-" });
  const node = await startSimulatedNode(
    `${ROOT}/scripts/fake_node/profiles/bench50.toml`,
    dir,
  );
  const log = `${dir}/commands.log`;
  await Deno.writeTextFile(log, "");
  const wrap = `${dir}/wrap`;
  await Deno.mkdir(wrap);
  // every tool the fake node has, wrapped to log its command line
  for (const tool of TOOLS) {
    await Deno.writeTextFile(
      `${wrap}/${tool}`,
      `#!/bin/sh\necho "${tool} $*" >> '${log}'\nexec '${ROOT}/scripts/fake_node/bin/${tool}' "$@"\n`,
      { mode: 0o755 },
    );
  }
  const wrapped = {
    ...node,
    env: { ...node.env, PATH: `${wrap}:${node.env.PATH}` },
  };
  const opts = { port: freePort(), databaseUrl: `file:${dir}/bench.db` };
  const server = await startServer(opts);
  const agent = await startRegisteredAgent(opts, {
    name: "bench",
    node: wrapped,
    dir,
    // the agent's defaults
    intervals: { fast: 10, medium: 60, slow: 1800, smart: 1800 },
  });
  const lines = async () =>
    (await Deno.readTextFile(log)).split("\n").filter((l) => l !== "");
  try {
    // warm-up: the first fast, medium and slow cycles (SMART included)
    const warmupMs = 75_000;
    await new Promise((r) => setTimeout(r, warmupMs));
    const firstCycles = await lines();
    const from = await readProc(agent.pid, Date.now);
    await new Promise((r) => setTimeout(r, minutes * 60_000));
    const to = await readProc(agent.pid, Date.now);
    if (!from || !to) throw new Error(`the agent exited:\n${agent.tail(20)}`);
    const window = (await lines()).slice(firstCycles.length);
    const mins = (to.atMs - from.atMs) / 60_000;
    const treeS = (to.cpuMs + to.childCpuMs - from.cpuMs - from.childCpuMs) /
      1000 / mins;
    const agentS = (to.cpuMs - from.cpuMs) / 1000 / mins;
    const health = window.filter(isHealthCall);
    const byTool = (ls: string[]) => {
      const out: Record<string, number> = {};
      for (const l of ls) {
        out[l.split(" ")[0]] = (out[l.split(" ")[0]] ?? 0) + 1;
      }
      return out;
    };
    const per = (n: number) => Math.round((n / mins) * 100) / 100;
    const healthPvesh = health.filter((l) => l.startsWith("pvesh")).length;
    const firstHealth = firstCycles.filter(isHealthCall);
    console.log(
      `window ${mins.toFixed(1)} min after a ${
        warmupMs / 1000
      } s warm-up (default intervals)`,
    );
    console.log(
      `first cycles: ${firstCycles.length} commands, ${firstHealth.length} of them issue-17: ${
        JSON.stringify(byTool(firstHealth))
      }`,
    );
    console.log(
      `all commands per minute: ${per(window.length)} ${
        JSON.stringify(
          Object.fromEntries(
            Object.entries(byTool(window)).map(([k, n]) => [k, per(n)]),
          ),
        )
      }`,
    );
    console.log(
      `issue-17 commands per minute: ${per(health.length)} ${
        JSON.stringify(
          Object.fromEntries(
            Object.entries(byTool(health)).map(([k, n]) => [k, per(n)]),
          ),
        )
      }`,
    );
    for (
      const l of [
        ...new Set(health.map((l) => l.replace(/UPID:[^ ]+/, "UPID…"))),
      ]
    ) console.log(`  ${l}`);
    console.log(
      `agent process-tree CPU: ${treeS.toFixed(2)} s/min (agent alone ${
        agentS.toFixed(2)
      } s/min; fake tools are Deno programs) — ratio to ${TARGET_S_PER_MIN} s/min: ${
        (treeS / TARGET_S_PER_MIN).toFixed(2)
      }`,
    );
    for (const perCall of [0.3, 1]) {
      const s = per(healthPvesh) * perCall;
      console.log(
        `issue-17 pvesh on a real node at ${perCall} s/call: ${
          s.toFixed(2)
        } s/min — ratio to ${TARGET_S_PER_MIN} s/min: ${
          (s / TARGET_S_PER_MIN).toFixed(2)
        }`,
      );
    }
    return 0;
  } finally {
    await agent.stop({ graceMs: 3000 });
    await server.proc.stop({ graceMs: 3000 });
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  Deno.exit(await main(Number(Deno.args[0] ?? 6)));
}
