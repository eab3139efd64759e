/**
 * Guest runtime from the per-node lists `/nodes/{node}/qemu` and `…/lxc`:
 * one request each, whatever the number of guests. The same entries, with
 * `maxcpu` for `cpus`, make up the guests of `/cluster/resources`
 * (cluster_resources.ts).
 */
import type {
  CollectorError,
  GuestRuntime,
  GuestsRuntime,
  GuestType,
  Psi,
} from "@proxmon/shared";
import { parseJson } from "../exec.ts";
import type { PveSource } from "./pve_source.ts";
import {
  type ErrorList,
  isRecord,
  splitList,
  stringOr,
  toFlag,
  toNumber,
} from "../values.ts";

/** One list entry as a guest, or null (with an error) without a usable vmid. */
export function toRuntime(
  entry: Record<string, unknown>,
  type: GuestType,
  tag: string,
  errors: ErrorList,
): GuestRuntime | null {
  // PVE 6 sent vmid as a string ("101"); it is always a number on the wire.
  const vmid = toNumber(entry.vmid, "vmid", tag, []);
  if (vmid === null || !Number.isInteger(vmid)) {
    errors.push({
      tag,
      message: `guest without a usable vmid: ${JSON.stringify(entry.vmid)}`,
    });
    return null;
  }
  const num = (key: string) =>
    toNumber(entry[key], `${vmid}.${key}`, tag, errors);
  // PVE leaves these out for some guests and versions: null, not 0.
  const counter = (key: string) => entry[key] === undefined ? null : num(key);
  const runtime: GuestRuntime = {
    vmid,
    type,
    name: stringOr(entry.name) ??
      (type === "qemu" ? `VM ${vmid}` : `CT${vmid}`),
    status: stringOr(entry.status) ?? "unknown",
    uptime_seconds: num("uptime"),
    cpu_usage: num("cpu"),
    cpus: num("cpus"),
    mem_bytes: num("mem"),
    max_mem_bytes: num("maxmem"),
    disk_bytes: counter("disk"),
    max_disk_bytes: counter("maxdisk"),
    netin_bytes: counter("netin"),
    netout_bytes: counter("netout"),
    diskread_bytes: counter("diskread"),
    diskwrite_bytes: counter("diskwrite"),
    tags: splitList(entry.tags),
    // Present as 1 only on templates in PVE 9; PVE 6 sent "" for the rest.
    template: toFlag(entry.template),
    // Set while a backup, migration or snapshot holds the guest.
    lock: stringOr(entry.lock),
    psi: guestPressure(entry, vmid, tag, errors),
  };
  return runtime;
}

const PRESSURE_KINDS = ["cpu", "memory", "io"] as const;

/**
 * PVE 9's `pressure{cpu,io,memory}{some,full}`: the avg10 of the guest's
 * cgroup pressure files (qemu-server and pve-container `vmstatus`). VMs send
 * numbers, containers the text of the file ("0.46"); a running guest has all
 * six, a stopped one and PVE 8 none. Null when no field is there.
 */
export function guestPressure(
  entry: Record<string, unknown>,
  vmid: number,
  tag: string,
  errors: ErrorList,
): Psi | null {
  if (!Object.keys(entry).some((k) => k.startsWith("pressure"))) return null;
  const avg10 = (kind: string, which: string) =>
    toNumber(
      entry[`pressure${kind}${which}`],
      `${vmid}.pressure${kind}${which}`,
      tag,
      errors,
    );
  const psi: Psi = { cpu: null, memory: null, io: null };
  for (const kind of PRESSURE_KINDS) {
    psi[kind] = {
      some_avg10: avg10(kind, "some"),
      some_avg60: null,
      full_avg10: avg10(kind, "full"),
      full_avg60: null,
    };
  }
  return psi;
}

/** The guests of one parsed list (`/nodes/{node}/qemu` or `…/lxc`). */
export function guestsFromList(value: unknown, type: GuestType): GuestsRuntime {
  const tag = `${type}_list`;
  const errors: CollectorError[] = [];
  if (!Array.isArray(value)) {
    return {
      vms: [],
      errors: [{ tag, message: "expected a JSON array of guests" }],
    };
  }
  const vms = value.flatMap((entry) => {
    const vm = isRecord(entry) ? toRuntime(entry, type, tag, errors) : null;
    return vm ? [vm] : [];
  });
  return { vms, errors };
}

function parseGuestList(text: string, type: GuestType): GuestsRuntime {
  const parsed = parseJson(text, `${type}_list`, `${type} list`);
  if (!parsed.ok) return { vms: [], errors: [parsed.error] };
  return guestsFromList(parsed.value, type);
}

/** Parses `pvesh get /nodes/{node}/qemu --output-format json`. */
export function parseQemuList(text: string): GuestsRuntime {
  return parseGuestList(text, "qemu");
}

/** Parses `pvesh get /nodes/{node}/lxc --output-format json`. */
export function parseLxcList(text: string): GuestsRuntime {
  return parseGuestList(text, "lxc");
}

export const byVmid = (a: GuestRuntime, b: GuestRuntime): number =>
  a.vmid - b.vmid;

/** Gets both lists concurrently; guests come back sorted by vmid (PVE's order is hash order). */
export async function collectGuestsRuntime(
  source: PveSource,
  node: string,
): Promise<GuestsRuntime> {
  const lists = await Promise.all(
    (["qemu", "lxc"] as const).map(async (type) => {
      const out = await source.get(`/nodes/${node}/${type}`, `${type}_list`);
      return out.ok
        ? guestsFromList(out.data, type)
        : { vms: [], errors: [out.error] };
    }),
  );
  return {
    vms: lists.flatMap((l) => l.vms).sort(byVmid),
    errors: lists.flatMap((l) => l.errors),
  };
}
