/**
 * Guests' pressure stall information, read where PVE 9 reads it: each
 * running guest's cgroup v2 `cpu.pressure`, `memory.pressure` and
 * `io.pressure` (qemu-server and pve-container `vmstatus`, through
 * `PVE::ProcFSTools::read_cgroup_pressure`: `qemu.slice/<vmid>.scope` for a
 * VM, `lxc/<vmid>` for a container). The files have the format of
 * /proc/pressure/* (Documentation/accounting/psi.rst), so the host parser
 * reads them.
 *
 * Why read them here: the pvesh source's fast cycle is one
 * `/cluster/resources` call, which carries no `pressure*` (only the per-node
 * lists do), and a second list per cycle would cost another Perl start. A
 * file read costs nothing of the kind, and gives avg60 too. Where the
 * runtime data already carries PVE's avg10 figures (the API source), the
 * files are read all the same, so both sources give the same payload.
 */
import type { GuestRuntime, Psi } from "@proxmon/shared";
import { parsePressure } from "../host/proc_parsers.ts";
import type { ReadFile } from "../host/proc_reader.ts";

export const DEFAULT_CGROUP_DIR = "/sys/fs/cgroup";

/** A guest's cgroup directory as PVE creates it. */
export function guestCgroupDir(
  cgroupDir: string,
  guest: Pick<GuestRuntime, "type" | "vmid">,
): string {
  return guest.type === "qemu"
    ? `${cgroupDir}/qemu.slice/${guest.vmid}.scope`
    : `${cgroupDir}/lxc/${guest.vmid}`;
}

/**
 * A running guest's pressure from its cgroup, or null when the cgroup has
 * none (a stopped guest, cgroup v1, a kernel without PSI): then whatever the
 * runtime data carried stays.
 */
export async function readGuestPressure(
  readFile: ReadFile,
  cgroupDir: string,
  guest: Pick<GuestRuntime, "type" | "vmid">,
): Promise<Psi | null> {
  const dir = guestCgroupDir(cgroupDir, guest);
  const [cpu, memory, io] = await Promise.all(
    (["cpu", "memory", "io"] as const).map(async (kind) => {
      const read = await readFile(`${dir}/${kind}.pressure`);
      return read.ok ? parsePressure(read.text) : null;
    }),
  );
  return cpu || memory || io ? { cpu, memory, io } : null;
}

/**
 * The guests with their cgroup pressure where it can be read; each running
 * guest costs three small file reads.
 */
export async function withGuestPressure(
  guests: GuestRuntime[],
  readFile: ReadFile,
  cgroupDir: string,
): Promise<GuestRuntime[]> {
  return await Promise.all(guests.map(async (guest) => {
    if (guest.status !== "running") return guest;
    const psi = await readGuestPressure(readFile, cgroupDir, guest);
    return psi ? { ...guest, psi } : guest;
  }));
}
