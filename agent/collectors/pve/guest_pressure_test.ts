import assert from "node:assert/strict";
import type { GuestRuntime } from "@proxmon/shared";
import { fixturePath } from "../../testing/fixtures.ts";
import { readTextFileResult } from "../host/proc_reader.ts";
import {
  guestCgroupDir,
  readGuestPressure,
  withGuestPressure,
} from "./guest_pressure.ts";

// cgroup v2 pressure files have /proc/pressure's format: the real files of
// fixtures/proc/pressure/ stand in for a guest's cgroup
const CGROUP = "/sys/fs/cgroup";
const realFiles: Record<string, string> = {
  [`${CGROUP}/qemu.slice/100.scope/cpu.pressure`]: "proc/pressure/procfs/cpu",
  [`${CGROUP}/qemu.slice/100.scope/memory.pressure`]:
    "proc/pressure/node_exporter/memory",
  [`${CGROUP}/qemu.slice/100.scope/io.pressure`]:
    "proc/pressure/node_exporter/io",
  [`${CGROUP}/lxc/200/io.pressure`]: "proc/pressure/node_exporter/io",
};
const readFile = (path: string) =>
  readTextFileResult(
    realFiles[path] ? fixturePath(realFiles[path]) : `/nonexistent${path}`,
  );

const guest = (
  vmid: number,
  type: "qemu" | "lxc",
  status = "running",
): GuestRuntime => ({
  vmid,
  type,
  name: `g${vmid}`,
  status,
  uptime_seconds: 100,
  cpu_usage: 0,
  cpus: 1,
  mem_bytes: 0,
  max_mem_bytes: 0,
  disk_bytes: null,
  max_disk_bytes: null,
  netin_bytes: null,
  netout_bytes: null,
  diskread_bytes: null,
  diskwrite_bytes: null,
  tags: [],
  template: false,
  lock: null,
  psi: null,
});

Deno.test("guestCgroupDir() is where qemu-server and pve-container put a guest", () => {
  assert.equal(
    guestCgroupDir(CGROUP, { type: "qemu", vmid: 100 }),
    "/sys/fs/cgroup/qemu.slice/100.scope",
  );
  assert.equal(
    guestCgroupDir(CGROUP, { type: "lxc", vmid: 200 }),
    "/sys/fs/cgroup/lxc/200",
  );
});

Deno.test("readGuestPressure() reads some and full, avg10 and avg60, from real pressure files", async () => {
  const psi = await readGuestPressure(readFile, CGROUP, guest(100, "qemu"));
  // procfs' cpu file has no `full` line (kernels before 5.13)
  assert.deepEqual(psi?.cpu, {
    some_avg10: 0.1,
    some_avg60: 2,
    full_avg10: null,
    full_avg60: null,
  });
  assert.deepEqual(psi?.io, {
    some_avg10: 0.18,
    some_avg60: 0.34,
    full_avg10: 0.18,
    full_avg60: 0.34,
  });
  assert.notEqual(psi?.memory, null);
  // a container with only io.pressure readable: the others are null
  const ct = await readGuestPressure(readFile, CGROUP, guest(200, "lxc"));
  assert.equal(ct?.cpu, null);
  assert.equal(ct?.io?.some_avg60, 0.34);
});

Deno.test("withGuestPressure() fills running guests from their cgroup and leaves the rest as they were", async () => {
  const fromPve = {
    ...guest(300, "qemu"),
    psi: {
      cpu: { some_avg10: 1, some_avg60: null, full_avg10: 0, full_avg60: null },
      memory: null,
      io: null,
    },
  };
  const [vm, stopped, noCgroup, keptPve] = await withGuestPressure(
    [
      guest(100, "qemu"),
      guest(200, "lxc", "stopped"),
      guest(101, "qemu"),
      fromPve,
    ],
    readFile,
    CGROUP,
  );
  assert.equal(vm.psi?.io?.full_avg60, 0.34);
  assert.equal(stopped.psi, null, "a stopped guest is not read");
  assert.equal(noCgroup.psi, null, "no cgroup files: nothing, no error");
  assert.deepEqual(keptPve, fromPve, "no cgroup: PVE's own figures stay");
});
