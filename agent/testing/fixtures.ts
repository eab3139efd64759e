/** Test helpers: paths into the repository's `fixtures/` folder. */

const ROOT = `${import.meta.dirname}/../../fixtures`;

/** Absolute path of a fixture, e.g. `fixturePath("proc/pve_t0")`. */
export function fixturePath(relative: string): string {
  return `${ROOT}/${relative}`;
}

/** The text of a fixture file, e.g. `readFixture("zfs/zpool_list.json")`. */
export function readFixture(relative: string): string {
  return Deno.readTextFileSync(fixturePath(relative));
}

/**
 * The whole disks in `proc/node_exporter/diskstats`, in its order: what a
 * reader of that file must keep (its partitions and virtual devices go).
 */
export const NODE_EXPORTER_DISKS = [
  "sda",
  "mmcblk0",
  "vda",
  "nvme0n1",
  "sdb",
  "sdc",
];
