/**
 * The simulated node's cgroup v2 tree, as far as the agent reads it: each
 * running guest's `cpu.pressure`, `memory.pressure` and `io.pressure`
 * (`qemu.slice/<vmid>.scope/` for a VM, `lxc/<vmid>/` for a container, where
 * PVE 9's `vmstatus` reads them). The format is the kernel's (the same as
 * /proc/pressure/*; real examples in fixtures/proc/pressure/).
 */
import { type GuestModel, isUp, type NodeModel } from "./node_model.ts";

/**
 * A guest's avg10 pressure in percent, some and full, for every resource:
 * what its cgroup files hold and what the fake pvesh reports as PVE 9's
 * `pressure*` fields, so both sources agree.
 */
export function guestPressureAvg10(
  g: GuestModel,
): { some: number; full: number } {
  return {
    some: Math.round(g.cpuBusy * 100 * 0.3) / 100,
    full: Math.round(g.cpuBusy * 100 * 0.1) / 100,
  };
}

/** The pressure files of the running guests, by path under the cgroup root. */
export function cgroupFiles(
  model: NodeModel,
  nowMs: number,
): Record<string, string> {
  const files: Record<string, string> = {};
  for (const g of model.guests) {
    if (!isUp(g)) continue;
    const dir = g.type === "qemu"
      ? `qemu.slice/${g.vmid}.scope`
      : `lxc/${g.vmid}`;
    const { some, full } = guestPressureAvg10(g);
    // stalled time since the guest started, at the same share, in µs
    const upUs = Math.max(0, nowMs / 1000 - g.startedAt) * 1e6;
    const line = (kind: string, pct: number) =>
      `${kind} avg10=${pct.toFixed(2)} avg60=${pct.toFixed(2)} avg300=${
        pct.toFixed(2)
      } total=${Math.round(upUs * pct / 100)}\n`;
    for (const resource of ["cpu", "memory", "io"]) {
      files[`${dir}/${resource}.pressure`] = line("some", some) +
        line("full", full);
    }
  }
  return files;
}
