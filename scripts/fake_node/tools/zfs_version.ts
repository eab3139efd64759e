import type { NodeModel } from "../node_model.ts";
import { ok, type ToolResult } from "./tool_result.ts";

/** `zfs --version` / `zpool --version`: userland and kernel module, one line each. */
export function zfsVersion(model: NodeModel): ToolResult {
  return ok(`zfs-${model.zfsVersion}\nzfs-kmod-${model.zfsVersion}\n`);
}
