import type { NodeModel } from "../node_model.ts";
import { fail, ok, type ToolResult } from "./tool_result.ts";

/**
 * The fake `pveversion`: `pve-manager/<ver>/<repoid> (running kernel: …)`,
 * or the `pkg: version` list with `-v`. Bad arguments fail like the Perl
 * script: usage on stderr, exit 255.
 */
export function pveversion(model: NodeModel, args: string[]): ToolResult {
  if (args.length === 0) {
    return ok(
      `pve-manager/${model.pveVersion}/${model.pveRepoid} (running kernel: ${model.kernel})\n`,
    );
  }
  if (args.length === 1 && (args[0] === "-v" || args[0] === "--verbose")) {
    const major = model.pveVersion.split(".")[0];
    const kernelSeries = model.kernel.split(".").slice(0, 2).join(".");
    return ok(
      `proxmox-ve: ${major}.0.0 (running kernel: ${model.kernel})\n` +
        `pve-manager: ${model.pveVersion} (running version: ${model.pveVersion}/${model.pveRepoid})\n` +
        `proxmox-kernel-helper: ${major}.0.4\n` +
        `proxmox-kernel-${model.kernel}-signed: ${
          model.kernel.replace(/-pve$/, "")
        }\n` +
        `proxmox-kernel-${kernelSeries}: ${
          model.kernel.replace(/-pve$/, "")
        }\n` +
        `zfsutils-linux: ${model.zfsVersion}\n`,
    );
  }
  const unknown = args.find((a) => a.startsWith("-"));
  const message = unknown
    ? `Unknown option: ${unknown.replace(/^-+/, "")}\n`
    : "";
  return fail(`${message}USAGE: pveversion [--verbose]\n`, 255);
}
