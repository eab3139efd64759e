/**
 * Every external command line the collectors run, in one place. The PVE
 * collectors ask for API paths through a `PveSource` (pve/pve_source.ts);
 * with the pvesh source each path becomes the `pvesh get` line below. The
 * per-node lists (`/nodes/{node}/storage`, `…/qemu`, `…/lxc`) are what the
 * API source asks for instead of `/cluster/resources`.
 *
 * The fake PVE node (scripts/fake_node) answers exactly these lines, so a
 * change here is a change to that contract too. The agent never goes through
 * a shell: each command is a program name plus an argument list.
 *
 * | collector      | command line                                                                 |
 * |----------------|------------------------------------------------------------------------------|
 * | zfs (2.3+)     | `zpool list -j --json-int`                                                   |
 * | zfs (2.3+)     | `zpool status -j --json-flat-vdevs --json-int`                               |
 * | zfs (2.3+)     | `zfs list -j --json-int -t all -o name,type,used,available,usedbysnapshots,creation` |
 * | zfs (2.2 text) | `zpool list -Hp -o name,size,alloc,free,frag,cap,health`                     |
 * | zfs (2.2 text) | `zpool status -p`                                                            |
 * | zfs (2.2 text) | `zfs list -Hp -t all -o name,type,used,available,usedbysnapshots,creation`   |
 * | fast (pvesh)   | `pvesh get /cluster/resources --output-format json` (storages and guests) |
 * | guests detail  | `pvesh get /nodes/{node}/qemu/{vmid}/config --output-format json` (no pmxcfs file) |
 * | guests detail  | `pvesh get /nodes/{node}/lxc/{vmid}/config --output-format json` (no pmxcfs file) |
 * | guests detail  | `pvesh get /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces --output-format json` |
 * | guests detail  | `pvesh get /nodes/{node}/lxc/{vmid}/interfaces --output-format json`         |
 * | system info    | `pveversion`, `zfs --version`, `apt list --upgradable`                       |
 * | backups        | `pvesh get /cluster/backup …`, `/cluster/backup-info/not-backed-up`, `/nodes/{node}/tasks --typefilter vzdump --limit 200`, `/nodes/{node}/tasks/{upid}/log --limit 100000`, `/nodes/{node}/storage --content backup`, `/nodes/{node}/storage/{id}/content --content backup` (see backup/pve_get.ts) |
 * | replication    | `pvesh get /nodes/{node}/replication --output-format json`                   |
 * | smart (slow)   | `smartctl --scan-open -j`, `smartctl -a -j -n standby -d {type} {device}`    |
 * | temperatures   | `sensors -j` (else /sys/class/hwmon is read directly)                        |
 */
import type { GuestType } from "@proxmon/shared";
import { commandLine } from "../runner.ts";

/** A program and its arguments, run without a shell. */
export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
}

const command = (cmd: string, ...args: string[]): Command => ({ cmd, args });

/** The fields `zfs list` prints, in both the JSON and the text form. */
const ZFS_LIST_FIELDS = "name,type,used,available,usedbysnapshots,creation";

/** The columns `zpool list` prints in the 2.2 text form, in this order. */
export const ZPOOL_LIST_TEXT_COLUMNS = [
  "name",
  "size",
  "alloc",
  "free",
  "frag",
  "cap",
  "health",
] as const;

export const ZPOOL_LIST_JSON = command("zpool", "list", "-j", "--json-int");
export const ZPOOL_STATUS_JSON = command(
  "zpool",
  "status",
  "-j",
  "--json-flat-vdevs",
  "--json-int",
);
export const ZFS_LIST_JSON = command(
  "zfs",
  "list",
  "-j",
  "--json-int",
  "-t",
  "all",
  "-o",
  ZFS_LIST_FIELDS,
);

export const ZPOOL_LIST_TEXT = command(
  "zpool",
  "list",
  "-Hp",
  "-o",
  ZPOOL_LIST_TEXT_COLUMNS.join(","),
);
export const ZPOOL_STATUS_TEXT = command("zpool", "status", "-p");
export const ZFS_LIST_TEXT = command(
  "zfs",
  "list",
  "-Hp",
  "-t",
  "all",
  "-o",
  ZFS_LIST_FIELDS,
);

export const PVEVERSION = command("pveversion");
export const ZFS_VERSION = command("zfs", "--version");
export const APT_UPGRADABLE = command("apt", "list", "--upgradable");

/** The disks smartctl can open, with their device types. */
export const SMARTCTL_SCAN = command("smartctl", "--scan-open", "-j");

/**
 * One disk's SMART data. `-n standby` makes smartctl give up (exit bit 1)
 * instead of spinning a sleeping disk up.
 */
export const smartctlRead = (device: string, type: string | null): Command =>
  type === null
    ? command("smartctl", "-a", "-j", "-n", "standby", device)
    : command("smartctl", "-a", "-j", "-n", "standby", "-d", type, device);

/** lm-sensors readings as JSON. */
export const SENSORS_JSON = command("sensors", "-j");

/** `pvesh get PATH --output-format json`: one line of JSON, the API's `data` member. */
export function pveshGet(path: string): Command {
  return command("pvesh", "get", path, "--output-format", "json");
}

/** The node's storages with usage. */
export const storageList = (node: string): Command =>
  pveshGet(`/nodes/${node}/storage`);

/** All guests of one type (VMs or containers) of the node, with runtime figures, in one call. */
export const guestList = (node: string, kind: GuestType): Command =>
  pveshGet(`/nodes/${node}/${kind}`);

/** One guest's current config. */
export const guestConfig = (
  node: string,
  kind: GuestType,
  vmid: number,
): Command => pveshGet(`/nodes/${node}/${kind}/${vmid}/config`);

/** A VM's interfaces as its QEMU guest agent reports them. */
export const qemuAgentInterfaces = (node: string, vmid: number): Command =>
  pveshGet(`/nodes/${node}/qemu/${vmid}/agent/network-get-interfaces`);

/** A running container's live interfaces (not on every PVE release). */
export const lxcInterfaces = (node: string, vmid: number): Command =>
  pveshGet(`/nodes/${node}/lxc/${vmid}/interfaces`);

/** The command as one line, as fixture tables and error messages spell it. */
export function lineOf(c: Command): string {
  return commandLine(c.cmd, [...c.args]);
}
