/**
 * Guest IP addresses: from the QEMU guest agent, from an LXC container's
 * live interfaces, and from the `ip=`/`ip6=` entries of its config.
 */
import { parseJson } from "../exec.ts";
import { usableIps } from "../ip.ts";
import { isRecord, toFlag } from "../values.ts";
import { guestAgentAnswer } from "./guest_agent_answer.ts";

export type IpResult = { ok: true; ips: string[] } | {
  ok: false;
  message: string;
};

/** `key=value,key=value` PVE property strings; a part without `=` belongs to `defaultKey`. */
export function parsePropertyString(
  value: string,
  defaultKey?: string,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq >= 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    else if (defaultKey && part.trim() !== "") out.set(defaultKey, part.trim());
  }
  return out;
}

/** Whether a qemu config enables the guest agent: `agent: 1`, `"1,fstrim_cloned_disks=1"`, `"enabled=1,type=virtio"`. */
export function qemuAgentEnabled(config: Record<string, unknown>): boolean {
  const agent = config.agent;
  if (typeof agent !== "string") return toFlag(agent);
  return toFlag(parsePropertyString(agent, "enabled").get("enabled"));
}

/** The `ip-address` strings of QEMU guest agent interfaces; some have none, or only a name. */
function agentAddresses(interfaces: unknown[]): string[] {
  return interfaces.flatMap((iface) => {
    const list = isRecord(iface) ? iface["ip-addresses"] : undefined;
    if (!Array.isArray(list)) return [];
    return list.flatMap((a) =>
      isRecord(a) && typeof a["ip-address"] === "string"
        ? [a["ip-address"]]
        : []
    );
  });
}

/**
 * Parses `…/qemu/{vmid}/agent/network-get-interfaces`: `{"result": [...]}`.
 * A guest agent that does not support the command answers
 * `{"result": {"error": {...}}}` instead; the raw API adds a `data` envelope.
 */
export function parseGuestAgentInterfaces(text: string): IpResult {
  const parsed = parseJson(text, "qemu_agent", "guest agent interfaces");
  if (!parsed.ok) return { ok: false, message: parsed.error.message };
  return parseGuestAgentInterfacesValue(parsed.value);
}

/** {@link parseGuestAgentInterfaces} on an answer already parsed. */
export function parseGuestAgentInterfacesValue(value: unknown): IpResult {
  const answer = guestAgentAnswer(value, false);
  if (!answer.ok) return answer;
  const { result } = answer;
  if (Array.isArray(result)) {
    return { ok: true, ips: usableIps(agentAddresses(result)) };
  }
  return { ok: false, message: 'guest agent interfaces: no "result" list' };
}

/**
 * Static addresses from an LXC config's `netN` entries (`ip=10.0.0.5/24`,
 * `ip6=2001:db8::5/64`); `dhcp`, `auto` and `manual` name no address.
 */
export function parseLxcConfigIps(config: Record<string, unknown>): string[] {
  const raw: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!/^net\d+$/.test(key) || typeof value !== "string") continue;
    const net = parsePropertyString(value);
    for (const field of ["ip", "ip6"]) {
      const ip = net.get(field);
      if (ip && !["dhcp", "auto", "manual"].includes(ip)) raw.push(ip);
    }
  }
  return usableIps(raw);
}

/**
 * Parses `…/lxc/{vmid}/interfaces`: `[{name, hwaddr, inet?, inet6?}]`, where
 * `inet`/`inet6` are `address/prefix`; newer releases may also give a
 * QEMU-style `ip-addresses` list, which is read as well.
 */
export function parseLxcInterfaces(text: string): IpResult {
  const parsed = parseJson(text, "lxc_interfaces", "lxc interfaces");
  if (!parsed.ok) return { ok: false, message: parsed.error.message };
  return parseLxcInterfacesValue(parsed.value);
}

/** {@link parseLxcInterfaces} on an answer already parsed. */
export function parseLxcInterfacesValue(value: unknown): IpResult {
  if (!Array.isArray(value)) {
    return { ok: false, message: "lxc interfaces: expected a JSON array" };
  }
  const raw = value.flatMap((iface) => {
    if (!isRecord(iface)) return [];
    const inet = [iface.inet, iface.inet6].flatMap((v) =>
      typeof v === "string" ? v.split(/[\s,]+/) : []
    );
    return [...inet, ...agentAddresses([iface])];
  });
  return { ok: true, ips: usableIps(raw) };
}

/**
 * Whether a container's addresses can only be seen live: some NIC gets an
 * address by DHCP or SLAAC (`ip=dhcp`, `ip6=dhcp`/`auto`), is set up by
 * hand inside (`manual`), or names no address at all. A container whose NICs
 * all have static addresses (or that has no NIC) needs no `…/interfaces`
 * call; what it would add are addresses made inside the container, such as
 * a docker bridge.
 */
export function lxcNeedsLiveIps(config: Record<string, unknown>): boolean {
  return Object.entries(config).some(([key, value]) => {
    if (!/^net\d+$/.test(key) || typeof value !== "string") return false;
    const net = parsePropertyString(value);
    const ip = net.get("ip");
    const ip6 = net.get("ip6");
    if (ip === undefined && ip6 === undefined) return true;
    return ["dhcp", "manual"].includes(ip ?? "") ||
      ["dhcp", "auto", "manual"].includes(ip6 ?? "");
  });
}
