/**
 * Guest IP filtering: IPv4 and IPv6 both count; loopback, link-local and the
 * unspecified address do not, since they say nothing about reaching a guest.
 * `node:net` parses the addresses; its BlockList also matches IPv4-mapped
 * IPv6 (`::ffff:127.0.0.1`) against the IPv4 ranges.
 */
import { BlockList, isIP } from "node:net";

/** Addresses that never reach a guest from outside it. */
const UNUSABLE: readonly [string, number, "ipv4" | "ipv6"][] = [
  ["127.0.0.0", 8, "ipv4"], // loopback
  ["169.254.0.0", 16, "ipv4"], // link-local
  ["0.0.0.0", 32, "ipv4"], // unspecified
  ["::1", 128, "ipv6"], // loopback
  ["fe80::", 10, "ipv6"], // link-local
  ["::", 128, "ipv6"], // unspecified
];

function unusableList(): BlockList {
  const list = new BlockList();
  for (const [net, prefix, family] of UNUSABLE) {
    list.addSubnet(net, prefix, family);
  }
  return list;
}

// A constant table built once; BlockList has no literal form.
const BLOCKED = unusableList();

/**
 * The bare address (no `/prefix`, no `%zone`, lower case) if it is a usable
 * IPv4 or IPv6 address; null for loopback, link-local, unspecified or junk.
 */
export function usableIp(raw: string): string | null {
  const address = raw.trim().split("/", 1)[0].split("%", 1)[0].toLowerCase();
  const version = isIP(address);
  if (version === 0) return null;
  return BLOCKED.check(address, version === 4 ? "ipv4" : "ipv6")
    ? null
    : address;
}

/** Usable addresses from `raws`, each once, in first-seen order. */
export function usableIps(raws: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const raw of raws) {
    const ip = usableIp(raw);
    if (ip !== null) out.add(ip);
  }
  return [...out];
}
