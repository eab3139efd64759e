/**
 * Guest runtime from the per-node lists `pvesh get /nodes/{node}/qemu` and
 * `…/lxc`: one call each, whatever the number of guests.
 */
import type {
  CollectorError,
  GuestRuntime,
  GuestsRuntime,
  GuestType,
} from "@proxmon/shared";
import { guestList } from "../commands.ts";
import { type Exec, parseJson, runText } from "../exec.ts";
import {
  type ErrorList,
  isRecord,
  splitList,
  stringOr,
  toFlag,
  toNumber,
} from "../values.ts";

// Counters PVE adds where it has them (lxc always, qemu partly); left out when absent.
function toRuntime(
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
  };
  return runtime;
}

function parseGuestList(text: string, type: GuestType): GuestsRuntime {
  const tag = `${type}_list`;
  const errors: CollectorError[] = [];
  const parsed = parseJson(text, tag, `${type} list`);
  if (!parsed.ok) return { vms: [], errors: [parsed.error] };
  if (!Array.isArray(parsed.value)) {
    return {
      vms: [],
      errors: [{ tag, message: "expected a JSON array of guests" }],
    };
  }
  const vms = parsed.value.flatMap((entry) => {
    const vm = isRecord(entry) ? toRuntime(entry, type, tag, errors) : null;
    return vm ? [vm] : [];
  });
  return { vms, errors };
}

/** Parses `pvesh get /nodes/{node}/qemu --output-format json`. */
export function parseQemuList(text: string): GuestsRuntime {
  return parseGuestList(text, "qemu");
}

/** Parses `pvesh get /nodes/{node}/lxc --output-format json`. */
export function parseLxcList(text: string): GuestsRuntime {
  return parseGuestList(text, "lxc");
}

/** Runs both lists concurrently; guests come back sorted by vmid (PVE's order is hash order). */
export async function collectGuestsRuntime(
  exec: Exec,
  node: string,
): Promise<GuestsRuntime> {
  const lists = await Promise.all(
    (["qemu", "lxc"] as const).map(async (type) => {
      const out = await runText(exec, guestList(node, type), `${type}_list`);
      return out.ok
        ? parseGuestList(out.value, type)
        : { vms: [], errors: [out.error] };
    }),
  );
  return {
    vms: lists.flatMap((l) => l.vms).sort((a, b) => a.vmid - b.vmid),
    errors: lists.flatMap((l) => l.errors),
  };
}
