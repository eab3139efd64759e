/**
 * Guest IP filtering: IPv4 and IPv6 both count; loopback, link-local and the
 * unspecified address do not, since they say nothing about reaching a guest.
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_CHARS = /^[0-9a-f:.]+$/;

function ipv4Octets(address: string): number[] | null {
  const m = IPV4.exec(address);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** The eight 16-bit groups of an IPv6 address, or null if it is malformed. */
function ipv6Groups(address: string): number[] | null {
  if (!IPV6_CHARS.test(address) || !address.includes(":")) return null;
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    // An embedded IPv4 tail (`::ffff:10.0.0.1`) stands for the last two groups.
    const v4 = ipv4Octets(last);
    if (!v4) return null;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) =>
    part === ""
      ? []
      : part.split(":").map((g) => g === "" ? NaN : parseInt(g, 16));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const known = head.length + rest.length + tail.length;
  if (head.concat(rest).some((g) => Number.isNaN(g) || g > 0xffff)) return null;
  if (halves.length === 1 && known !== 8) return null;
  if (halves.length === 2 && known > 7) return null;
  const zeros = new Array(8 - known).fill(0);
  return halves.length === 2
    ? [...head, ...zeros, ...rest, ...tail]
    : [...head, ...tail];
}

/**
 * The bare address (no `/prefix`, no `%zone`, lower case) if it is a usable
 * IPv4 or IPv6 address; null for loopback, link-local, unspecified or junk.
 */
export function usableIp(raw: string): string | null {
  const address = raw.trim().split("/", 1)[0].split("%", 1)[0].toLowerCase();
  const v4 = ipv4Octets(address);
  if (v4) {
    const [a, b] = v4;
    if (a === 127 || (a === 169 && b === 254) || v4.every((o) => o === 0)) {
      return null;
    }
    return address;
  }
  const v6 = ipv6Groups(address);
  if (!v6) return null;
  const unspecified = v6.every((g) => g === 0);
  const loopback = v6.slice(0, 7).every((g) => g === 0) && v6[7] === 1;
  const linkLocal = (v6[0] & 0xffc0) === 0xfe80;
  return unspecified || loopback || linkLocal ? null : address;
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
