/**
 * Slow-interval system facts: PVE and kernel version from `pveversion`, ZFS
 * version from `zfs --version`, and the number of pending package updates
 * from `apt list --upgradable`.
 */
import type { CollectorError, SystemInfo } from "@proxmon/shared";
import { APT_UPGRADABLE, PVEVERSION, ZFS_VERSION } from "../commands.ts";
import { type Exec, runText } from "../exec.ts";

export type PveVersion = { pve_version: string | null; kernel: string | null };

/**
 * `pveversion`: `pve-manager/9.1.6/71482d1833ded40a (running kernel: 6.17.13-2-pve)`,
 * or `pve-manager/7.4-17/513c62be (…)` before PVE 8. The `-v` form
 * (`pve-manager: 9.0.5 (running version: …)`, `proxmox-ve: 9.1.0 (running kernel: …)`)
 * is read too.
 */
export function parsePveversion(text: string): PveVersion {
  const version = /pve-manager\/([^/\s]+)\//.exec(text) ??
    /^pve-manager: (\S+)/m.exec(text) ??
    /^proxmox-ve: (\S+)/m.exec(text);
  const kernel = /running kernel: ([^)\s]+)\)/.exec(text);
  return { pve_version: version?.[1] ?? null, kernel: kernel?.[1] ?? null };
}

export type ZfsVersion = {
  zfs_version: string | null;
  zfs_kmod_version: string | null;
};

/**
 * `zfs --version`: the userland line (`zfs-2.2.7-pve2`) and the loaded
 * module's (`zfs-kmod-2.2.7-pve2`). They differ after an upgrade without a
 * reboot; the userland one decides which commands work, so it is the version.
 */
export function parseZfsVersion(text: string): ZfsVersion {
  const userland = /^zfs-(?!kmod-)(\S+)$/m.exec(text);
  const kmod = /^zfs-kmod-(\S+)$/m.exec(text);
  return {
    zfs_version: userland?.[1] ?? null,
    zfs_kmod_version: kmod?.[1] ?? null,
  };
}

// `name/suite[,suite] version arch [upgradable from: old]`
const UPGRADABLE = /^\S+\/\S+ \S+ \S+/;

/** Counts package lines of `apt list --upgradable` stdout; `Listing...` is not one. */
export function parseAptUpgradable(text: string): number {
  return text.split("\n").filter((line) => UPGRADABLE.test(line)).length;
}

/** Runs the three commands concurrently; each failure only blanks its own fields. */
export async function collectSystemInfo(
  exec: Exec,
  agentVersion: string,
): Promise<SystemInfo> {
  const errors: CollectorError[] = [];
  const [pve, zfs, apt] = await Promise.all([
    runText(exec, PVEVERSION, "pveversion"),
    runText(exec, ZFS_VERSION, "zfs_version"),
    runText(exec, APT_UPGRADABLE, "apt"),
  ]);
  const unreadable = (tag: string, text: string) =>
    errors.push({
      tag,
      message: `unrecognised output: ${JSON.stringify(text.slice(0, 200))}`,
    });

  let version: PveVersion = { pve_version: null, kernel: null };
  if (!pve.ok) errors.push(pve.error);
  else {
    version = parsePveversion(pve.value);
    if (version.pve_version === null) unreadable("pveversion", pve.value);
  }

  let zfsVersion: ZfsVersion = { zfs_version: null, zfs_kmod_version: null };
  if (!zfs.ok) errors.push(zfs.error);
  else {
    zfsVersion = parseZfsVersion(zfs.value);
    if (zfsVersion.zfs_version === null) unreadable("zfs_version", zfs.value);
  }

  if (!apt.ok) errors.push(apt.error);

  return {
    ...version,
    ...zfsVersion,
    pending_updates: apt.ok ? parseAptUpgradable(apt.value) : null,
    agent_version: agentVersion,
    errors,
  };
}
