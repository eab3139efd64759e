/**
 * A cycle-timing process for the agent benchmark: builds the agent's real
 * collectors (`createCollectors` with `denoRunner`, as `agent/main.ts` does)
 * against the simulated node on PATH, runs fast, medium and slow cycles one
 * after another, and reports each cycle's wall time and this process's CPU.
 * Run by the bench driver with a CyclePlan as its only argument.
 */
import { createCollectors } from "../../agent/collectors/mod.ts";
import { AGENT_DEFAULTS } from "../../agent/config.ts";
import { denoRunner } from "../../agent/deno_runner.ts";
import { AGENT_VERSION } from "../../agent/version.ts";
import type { GuestsDetail, Interval } from "@proxmon/shared";
import { readProc } from "./proc_stats.ts";

export interface CyclePlan {
  procDir: string;
  pveDir: string;
  cgroupDir: string;
  node: string;
  /** cycles per interval, after one unmeasured fast cycle (rates need two readings) */
  cycles: Record<Interval, number>;
  /** the agent's default unless set */
  concurrency?: number;
}

export interface CycleTiming {
  interval: Interval;
  wallMs: number;
  /** CPU of the agent process itself, not of the commands it ran */
  cpuMs: number;
  /** CPU of the commands (fake pvesh, zpool, …) it waited for */
  childCpuMs: number;
  /** collector error entries in the payload */
  errors: number;
  /** medium cycles: VMs whose guest agent has answered (file systems known) */
  vmsWithAgentFacts?: number;
}

/** The `tag: message` of every error entry in a payload. */
function errorMessages(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(errorMessages);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === "errors" && Array.isArray(v)
      ? v.map((e) => `${e.tag}: ${e.message}`)
      : errorMessages(v)
  );
}

async function main(): Promise<void> {
  const plan = JSON.parse(Deno.args[0]) as CyclePlan;
  const collectors = createCollectors({
    runner: denoRunner,
    procDir: plan.procDir,
    pveDir: plan.pveDir,
    cgroupDir: plan.cgroupDir,
    node: plan.node,
    agentVersion: AGENT_VERSION,
    commandTimeoutMs: AGENT_DEFAULTS.commandTimeoutSeconds * 1000,
    concurrency: plan.concurrency ?? AGENT_DEFAULTS.concurrency,
  });
  const now = () => Date.now();
  await collectors.fast(now());
  const timings: CycleTiming[] = [];
  const firstErrors = new Set<string>();
  for (const interval of ["fast", "medium", "slow"] as const) {
    for (let i = 0; i < plan.cycles[interval]; i++) {
      const before = await readProc(Deno.pid, now);
      const t = performance.now();
      const payload = await collectors[interval](now());
      const wallMs = performance.now() - t;
      const after = await readProc(Deno.pid, now);
      const errors = errorMessages(payload).length;
      for (const e of errorMessages(payload)) {
        if (firstErrors.size < 10) firstErrors.add(e);
      }
      const detail = (payload as { vms_detail?: GuestsDetail }).vms_detail;
      timings.push({
        interval,
        wallMs,
        cpuMs: after!.cpuMs - before!.cpuMs,
        childCpuMs: after!.childCpuMs - before!.childCpuMs,
        errors,
        ...(detail
          ? {
            vmsWithAgentFacts: detail.vms.filter((v) => v.filesystems !== null)
              .length,
          }
          : {}),
      });
    }
  }
  console.log(
    JSON.stringify({
      concurrency: plan.concurrency ?? AGENT_DEFAULTS.concurrency,
      timings,
      firstErrors: [...firstErrors],
    }),
  );
}

if (import.meta.main) await main();
