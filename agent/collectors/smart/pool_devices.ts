/**
 * The disks ZFS pools are built on, from a pool's vdev tree, and which of
 * them a SMART disk is. zpool status names a leaf by whatever path the pool
 * was imported with: a `/dev/disk/by-id` name (`ata-<model>_<serial>`,
 * `nvme-<model>_<serial>`, `wwn-0x…`), a plain `sda`, or a full path, often
 * with a `-partN` (or `N`, `pN`) partition suffix.
 */
import type { DiskVdev } from "@proxmon/shared";
import type { VdevNode } from "../zfs/vdev_tree.ts";

/**
 * Every leaf device of a pool with the top-level vdev above it. With
 * `--json-flat-vdevs` a leaf also appears on its own at the top of the map;
 * the copy seen inside its vdev wins.
 */
export function poolDevices(
  pool: string,
  roots: readonly VdevNode[],
): DiskVdev[] {
  const out = new Map<string, DiskVdev>();
  const visit = (node: VdevNode, top: string | null) => {
    if (node.children.length === 0) {
      if (node.structural) return;
      const seen = out.get(node.name);
      const vdev = top ?? node.name;
      if (!seen || (seen.vdev === seen.device && vdev !== node.name)) {
        out.set(node.name, {
          pool,
          vdev,
          device: node.name,
          state: node.state,
        });
      }
      return;
    }
    // Below the root vdev or a class heading each child is a top-level vdev.
    const next = node.structural ? null : (top ?? node.name);
    for (const child of node.children) visit(child, next);
  };
  for (const root of roots) visit(root, null);
  return [...out.values()];
}

/** A leaf name without its directory and partition suffix. */
export function leafBase(name: string): string {
  const base = name.replace(/^.*\//, "");
  if (/^(ata|nvme|scsi|usb|wwn|dm|md)-/.test(base)) {
    return base.replace(/-part\d+$/, "");
  }
  // nvme0n1p3 → nvme0n1, sda3 → sda
  return base.replace(/^(nvme\d+n\d+)p\d+$/, "$1").replace(
    /^([a-z]+)\d+$/,
    "$1",
  );
}

export interface DiskIdentity {
  /** `/dev/sda`, `/dev/nvme0` */
  device: string;
  protocol: string | null;
  model: string | null;
  serial: string | null;
  /** `0x5000c500a1b2c3d4` when smartctl printed a WWN */
  wwn: string | null;
}

/** The names udev gives the disk under /dev and /dev/disk/by-id. */
export function diskNames(disk: DiskIdentity): Set<string> {
  const names = new Set<string>();
  const base = disk.device.replace(/^.*\//, "");
  names.add(base);
  // smartctl scans the NVMe controller (nvme0); ZFS uses its namespace (nvme0n1).
  if (/^nvme\d+$/.test(base)) names.add(`${base}n1`);
  if (disk.model !== null && disk.serial !== null) {
    const id = `${
      disk.model.trim().replace(/\s+/g, "_")
    }_${disk.serial.trim()}`;
    names.add(disk.protocol === "NVMe" ? `nvme-${id}` : `ata-${id}`);
  }
  if (disk.wwn !== null) names.add(`wwn-${disk.wwn}`);
  return names;
}

/** The pool device that is this disk, or null when no pool uses it. */
export function matchVdev(
  disk: DiskIdentity,
  devices: readonly DiskVdev[],
): DiskVdev | null {
  const names = diskNames(disk);
  return devices.find((d) => names.has(leafBase(d.device))) ?? null;
}
