/**
 * Which client a request came from, for rate limits: the peer of the TCP
 * connection, unless that peer is a trusted reverse proxy, in which case the
 * nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
 * Anyone else's `X-Forwarded-For` is ignored, so a client cannot pick the
 * address it is counted under.
 */
import { BlockList, isIP } from "node:net";
import type { Context } from "hono";
import type { ConnInfo } from "hono/conninfo";
import { normalizeAddress } from "../edge/tcp_front.ts";

export type ClientAddressOf = (c: Context) => string;

/** A matcher for `TRUSTED_PROXIES` entries (addresses or CIDR ranges). */
export function trustedProxyList(
  entries: readonly string[],
): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split("/");
    const type = isIP(addr) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
  };
}

/**
 * Builds the client-address function from the peer of a request (which
 * the caller resolves from the adapter's conn info) and the trusted list.
 */
export function createClientAddress(
  peer: (c: Context) => string | undefined,
  trusted: (address: string) => boolean,
): ClientAddressOf {
  return (c) => {
    const address = peer(c);
    if (address === undefined) return "unknown";
    if (!trusted(address)) return address;
    const hops = (c.req.header("x-forwarded-for") ?? "")
      .split(",")
      .map((s) => normalizeAddress(s.trim()))
      .filter((s) => s !== "");
    // Each proxy appends the address it saw, so read from the right and
    // stop at the first one our own proxies did not add.
    for (let i = hops.length - 1; i >= 0; i--) {
      if (isIP(hops[i]) === 0) return address; // garbage: count the proxy
      if (!trusted(hops[i])) return hops[i];
    }
    return hops[0] ?? address;
  };
}

/**
 * The peer of a request from an adapter's `getConnInfo`, mapped through
 * `behind` (the TCP front's table: our own loopback connection → the real
 * client). Undefined when the request has no socket (`app.request`).
 */
export function peerAddress(
  getConnInfo: (c: Context) => ConnInfo,
  behind?: (port: number) => { address: string } | undefined,
): (c: Context) => string | undefined {
  return (c) => {
    let remote;
    try {
      remote = getConnInfo(c).remote;
    } catch {
      return undefined; // no socket in c.env
    }
    const client = remote.port === undefined
      ? undefined
      : behind?.(remote.port);
    if (client) return client.address;
    return remote.address === undefined
      ? undefined
      : normalizeAddress(remote.address);
  };
}
