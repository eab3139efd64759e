/**
 * Routes a command line of a fake PVE tool to its implementation. Pure:
 * the model and the time come in, the output and exit code go out.
 */
import type { NodeModel } from "./node_model.ts";
import { apt } from "./tools/apt.ts";
import { pvesh } from "./tools/pvesh.ts";
import { pveversion } from "./tools/pveversion.ts";
import { fail, type ToolResult } from "./tools/tool_result.ts";
import { zfs } from "./tools/zfs.ts";
import { zpool } from "./tools/zpool.ts";
import { smartctl } from "./tools/smartctl.ts";
import { sensors } from "./tools/sensors.ts";

export type { ToolResult };

/** The tools this fake node provides, by executable name. */
export const TOOLS = [
  "pvesh",
  "zpool",
  "zfs",
  "pveversion",
  "apt",
  "smartctl",
  "sensors",
] as const;
export type ToolName = typeof TOOLS[number];

/** Answers `tool args…` on the simulated node at `nowMs`. */
export function answer(
  model: NodeModel,
  tool: string,
  args: string[],
  nowMs: number,
): ToolResult {
  // A profile's `missing_tools` are not installed: the shell says so.
  if ((model.health.missingTools as readonly string[]).includes(tool)) {
    return fail(`sh: 1: ${tool}: not found\n`, 127);
  }
  switch (tool) {
    case "pvesh":
      return pvesh(model, args, nowMs);
    case "zpool":
      return zpool(model, args, nowMs);
    case "zfs":
      return zfs(model, args, nowMs);
    case "pveversion":
      return pveversion(model, args);
    case "apt":
      return apt(model, args);
    case "smartctl":
      return smartctl(model, args, nowMs);
    case "sensors":
      return sensors(model, args, nowMs);
    default:
      return fail(`fake node: unknown tool '${tool}'\n`, 127);
  }
}
