/**
 * The server's public TCP listener: our own accept loop in front of the HTTP
 * server, which listens on 127.0.0.1 only.
 *
 * `Deno.serve` has no header timeout, no idle timeout and no hook for a
 * connection that never sends a request, and its accept loop ends for good
 * (the server stops serving) on the first `EMFILE`. `node:http` under Deno
 * ignores `headersTimeout`. So every connection comes through here first:
 *
 * - accept errors are logged rate-limited and the loop goes on;
 * - a connection that has not sent a complete request head within
 *   `headerTimeoutMs` is closed, and one with no traffic either way for
 *   `idleTimeoutMs` (keep-alive, dead sockets) too;
 * - connections are capped in total (from the file limit) and per client
 *   address, and so are the "pending" ones that have not completed a request
 *   yet, so one unauthenticated client cannot hold the server's descriptors;
 * - the upstream connection is only opened once the client sends its first
 *   byte, so a silent connection costs one descriptor, not three;
 * - a 413 is a connection's last answer, and a WebSocket upgrade that has a
 *   body gets the front's own 400 (see `end` and http_head.ts).
 *
 * The HTTP server sees the loopback address of our upstream connection;
 * {@link TcpFront.clientOf} maps it back to the real client.
 */
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { Logger } from "@proxmon/shared/logger";
import { createRateLimitedLog } from "@proxmon/shared/rate_limited_log";
import { HeadFinder, isUpgradeWithBody, MessageEnd } from "./http_head.ts";

export interface TcpFrontLimits {
  /** a connection must complete its first request head within this */
  headerTimeoutMs: number;
  /** a connection with no bytes either way for this long is closed */
  idleTimeoutMs: number;
  /** open connections at most, all clients together */
  maxConnections: number;
  /** open connections at most from one address */
  maxConnectionsPerClient: number;
  /** connections from one address that have not completed a request yet */
  maxPendingPerClient: number;
}

export interface TcpFrontOptions extends TcpFrontLimits {
  hostname: string;
  port: number;
  /** the HTTP server's port on 127.0.0.1 */
  upstreamPort: number;
  /** addresses the per-client caps do not apply to (trusted proxies) */
  exempt?: (address: string) => boolean;
  clock: Clock;
  log: Logger;
  /** how often timeouts are checked; defaults to 1 s */
  sweepMs?: number;
  /**
   * Told of each upstream connection, and awaited, before its first byte
   * goes up; `onUnlink` when it closes. A front on its own thread
   * (worker_front.ts) tells the HTTP server's thread whose connection it is.
   */
  onLink?: (upstreamPort: number, client: ClientAddr) => Promise<void>;
  onUnlink?: (upstreamPort: number) => void;
}

export interface FrontStats {
  open: number;
  pending: number;
  refused: number;
  /** pending connections closed to make room for a new one */
  evicted: number;
  headerTimeouts: number;
  idleTimeouts: number;
  acceptErrors: number;
}

/** Every counter at zero. */
export const zeroStats = (): FrontStats => ({
  open: 0,
  pending: 0,
  refused: 0,
  evicted: 0,
  headerTimeouts: 0,
  idleTimeouts: 0,
  acceptErrors: 0,
});

export interface ClientAddr {
  address: string;
  port: number;
}

export interface TcpFront {
  hostname: string;
  port: number;
  /** The client behind the upstream connection from this local port. */
  clientOf(upstreamPort: number): ClientAddr | undefined;
  /** the counters now (a front on a Worker is asked for them) */
  stats(): Promise<FrontStats>;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

interface Link {
  client: Deno.TcpConn;
  upstream: Deno.TcpConn | null;
  upstreamPort: number | null;
  address: string;
  /** what the per-client caps count it under (clientKey) */
  key: string;
  port: number;
  openedAt: number;
  lastActivity: number;
  pending: boolean;
  closed: boolean;
  /** the write toward the client in progress, if any (see pump) */
  answering: Promise<void> | null;
  /**
   * Later requests on a keep-alive connection: since when the client has
   * been sending a request head that is not complete yet (null: none), and
   * whether an answer began since the last head was complete.
   */
  headSince: number | null;
  answered: boolean;
  /** switched to another protocol (a WebSocket): no more request heads */
  upgraded: boolean;
  /**
   * Since when the link has been ending (see `end`): its last answer is
   * going out, and what the client still sends is dropped. null: it is not.
   */
  endingSince: number | null;
}

/**
 * An answer of the front's own, the last on its connection, with the
 * security headers every response of the app has (app.ts).
 */
function frontAnswer(
  status: string,
  type: string,
  body: string,
  extra = "",
): Uint8Array {
  return new TextEncoder().encode(
    `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\n` +
      "x-content-type-options: nosniff\r\nx-frame-options: SAMEORIGIN\r\n" +
      "content-security-policy: default-src 'none'; frame-ancestors 'none'\r\n" +
      `connection: close\r\n${extra}content-length: ${body.length}\r\n\r\n` +
      body,
  );
}
const REFUSAL = frontAnswer(
  "503 Service Unavailable",
  "text/plain",
  "too many connections\n",
  "retry-after: 10\r\n",
);
// The app's answer to a broken upgrade (agent_socket.ts), with a reason.
const UPGRADE_WITH_BODY = frontAnswer(
  "400 Bad Request",
  "application/json",
  JSON.stringify({
    error: "bad_websocket_upgrade",
    message: "a WebSocket upgrade has no body",
  }),
);
const STATUS_101 = new TextEncoder().encode("HTTP/1.1 101 ");
const STATUS_100 = new TextEncoder().encode("HTTP/1.1 100 ");
const STATUS_413 = new TextEncoder().encode("HTTP/1.1 413 ");
/**
 * How long an ending link waits for its client to close after the last
 * answer (see `end`). A client that reads its answer closes at once; one
 * that goes on sending its body is cut off after this.
 */
const LINGER_MS = 2000;
const startsWith = (chunk: Uint8Array, prefix: Uint8Array) =>
  chunk.length >= prefix.length && prefix.every((b, i) => chunk[i] === b);
const ACCEPT_BACKOFF_MS = 100;
const BUFFER_BYTES = 16 * 1024;
/**
 * A response that keeps filling the buffer (a 6 MB `/metrics` scrape) gets
 * a larger one, up to this: 16 KB at a time was ten read and write calls
 * per 160 KB, most of the scrape's time in the front. Requests and the
 * agents' small frames never fill it, so idle links stay at 16 KB.
 */
const MAX_RESPONSE_BUFFER_BYTES = 256 * 1024;

/** `::ffff:10.0.0.1` is the IPv4 client 10.0.0.1. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address.toLowerCase();
}

/** The eight 16-bit groups of an IPv6 address, or null if it is not one. */
function ipv6Groups(address: string): number[] | null {
  const halves = address.split("%")[0].split("::");
  if (halves.length > 2) return null;
  const parts = (s: string) => (s === "" ? [] : s.split(":"));
  const head = parts(halves[0]);
  const tail = halves.length === 2 ? parts(halves[1]) : [];
  // an IPv4 tail (::ffff:1.2.3.4 and the like) is two groups
  const last = tail.length > 0 ? tail : head;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(last.at(-1) ?? "");
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    last.splice(
      -1,
      1,
      ((a << 8) | b).toString(16),
      ((c << 8) | d).toString(16),
    );
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [
    ...head,
    ...Array(halves.length === 2 ? missing : 0).fill("0"),
    ...tail,
  ].map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
  return groups.every(Number.isFinite) ? groups : null;
}

/**
 * Whose connections count together for the per-client caps: an IPv4
 * address, or an IPv6 /64, the block one subscriber gets (a client with a
 * /64 has 2^64 addresses to spread a flood over, one cap each).
 */
export function clientKey(address: string): string {
  if (!address.includes(":")) return address;
  const groups = ipv6Groups(address);
  return groups === null
    ? address
    : `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/**
 * HTTP links run with Nagle's algorithm off (TCP_NODELAY): an answer goes
 * out in more than one write (its head, then its body, in pieces), and with
 * Nagle on, the last small piece waited for the client's delayed ACK, 40 ms
 * on Linux. A 2 ms `GET /api/hosts/NAME` took 44-46 ms once in every ten or
 * so, which was its whole p99 and much of `/metrics`'. An upgraded link
 * (an agent's WebSocket) turns it back on: there the answers are acks of a
 * few dozen bytes, and Nagle gathering them into fewer packets cost less
 * CPU at 2,000 samples/s than sending each at once (BENCHMARKS.md, end of
 * stop 13).
 */
function setNagle(link: Link, on: boolean): void {
  for (const conn of [link.client, link.upstream]) {
    try {
      conn?.setNoDelay(!on);
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource)) throw err; // closed
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** Listens on `hostname:port` and forwards to the upstream port. */
export function startTcpFront(opts: TcpFrontOptions): TcpFront {
  const { clock, log } = opts;
  // Each kind of line (a flood can make thousands a second) at most once
  // per 10 s, then the count of those suppressed.
  const limited = createRateLimitedLog<
    "refused" | "evicted" | "serve" | "accept" | "upgrade"
  >(log, clock, { subject: "connection", limit: 1, windowMs: 10_000 });
  const listener = Deno.listen({
    hostname: opts.hostname,
    port: opts.port,
    transport: "tcp",
  });
  const links = new Set<Link>();
  // In arrival order, so the first is the oldest still without a request.
  const pendingLinks = new Set<Link>();
  const byUpstreamPort = new Map<number, Link>();
  const perClient = new Map<string, { open: number; pending: number }>();
  const stats = zeroStats();
  let closing = false;
  let sweepTimer: TimerId | undefined;

  const countOf = (address: string) => {
    let counts = perClient.get(address);
    if (!counts) perClient.set(address, counts = { open: 0, pending: 0 });
    return counts;
  };

  function settle(link: Link) {
    if (!link.pending) return;
    link.pending = false;
    pendingLinks.delete(link);
    stats.pending--;
    countOf(link.key).pending--;
  }

  function close(link: Link) {
    if (link.closed) return;
    settle(link);
    link.closed = true;
    links.delete(link);
    stats.open--;
    const counts = countOf(link.key);
    if (--counts.open === 0) perClient.delete(link.key);
    if (link.upstreamPort !== null) {
      byUpstreamPort.delete(link.upstreamPort);
      opts.onUnlink?.(link.upstreamPort);
    }
    for (const conn of [link.client, link.upstream]) {
      try {
        conn?.close();
      } catch {
        // already closed by the other direction
      }
    }
  }

  function refuse(conn: Deno.TcpConn, why: string) {
    stats.refused++;
    limited.warn("refused", `connection refused: ${why}`);
    conn.write(REFUSAL).catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch {
        // the peer is gone already
      }
    });
  }

  /**
   * Ends a link after its last answer: the app's 413, after which Deno's
   * HTTP server neither closes nor reads on (such connections stayed open to
   * the idle timeout, a chunked body's even after `connection: close`), or
   * the front's own refusal. The upstream is closed and the client's write
   * side closed after the answer; what the client still sends is read and
   * dropped until it closes too (`drain`), for LINGER_MS at most. Closing at
   * once with its bytes unread would reset the connection, and a reset can
   * erase the answer in the client's kernel before the client reads it
   * (RFC 9112, 9.6: the body of a refused upload is still coming).
   */
  async function end(link: Link, answer?: Uint8Array) {
    if (link.endingSince !== null || link.closed) return;
    link.endingSince = clock.now();
    try {
      link.upstream?.close();
    } catch {
      // the HTTP server closed it already
    }
    if (link.answering) await link.answering;
    if (answer) await writeAll(link.client, answer);
    await link.client.closeWrite();
  }

  /** Ends a link with the front's own answer, then drains its client. */
  async function answerAndEnd(link: Link, answer: Uint8Array) {
    await end(link, answer);
    await drain(link);
  }

  /** Reads and drops what an ending link's client sends, until it closes. */
  async function drain(link: Link) {
    const buf = new Uint8Array(BUFFER_BYTES);
    while ((await link.client.read(buf)) !== null) {
      link.lastActivity = clock.now();
    }
    close(link);
  }

  /**
   * Copies one direction; ends the write side when the read side ends.
   * Toward the client, the write in progress is kept on the link; toward
   * the upstream, the next read from the client waits for it. So a client
   * that stops reading its answers stops being read: a WebSocket server
   * reads frames whether or not its answers go out, and queues the answers
   * in memory, so a client sending frames without reading (a flood of
   * pings or garbage, each answered) grew the server without bound. Now
   * the answers wait in the kernel's socket buffers, the client's frames
   * too, and the idle timeout closes the link. A client that reads is
   * never held up: its writes complete at once.
   */
  async function pump(
    link: Link,
    toClient: boolean,
    first?: Uint8Array,
    scan?: (chunk: Uint8Array) => Uint8Array | null,
  ) {
    const from = toClient ? link.upstream! : link.client;
    const to = toClient ? link.client : link.upstream!;
    const maxBufferBytes = toClient ? MAX_RESPONSE_BUFFER_BYTES : BUFFER_BYTES;
    if (first) await writeAll(to, first);
    let buf = new Uint8Array(BUFFER_BYTES);
    // the connection's last answer (a 413), once it began: where it ends
    let last: MessageEnd | null = null;
    for (;;) {
      if (!toClient && link.answering) await link.answering;
      if (link.endingSince !== null) return toClient ? undefined : drain(link);
      const n = await from.read(buf);
      if (n === null) break;
      link.lastActivity = clock.now();
      if (link.endingSince !== null) continue;
      let chunk = buf.subarray(0, n);
      if (toClient) {
        // The start of an answer (a 100 Continue is not one): a 101 ends
        // HTTP on this connection, a 413 ends the connection, anything else
        // lets a next request come.
        if (!link.answered && !startsWith(chunk, STATUS_100)) {
          link.answered = true;
          if (startsWith(chunk, STATUS_101)) {
            link.upgraded = true;
            setNagle(link, true);
          }
          if (startsWith(chunk, STATUS_413)) last = new MessageEnd();
        }
        let lastByte = -1;
        if (last) {
          const at = last.push(chunk);
          if (at === null) last = null; // its end is the server's to say
          else lastByte = at;
        }
        if (lastByte >= 0) chunk = chunk.subarray(0, lastByte);
        const written = writeAll(to, chunk);
        link.answering = written;
        await written;
        link.answering = null;
        if (lastByte >= 0) return end(link);
      } else {
        const refusal = scan?.(chunk);
        // not sent up: the HTTP server has only half a head, and goes
        if (refusal) return await answerAndEnd(link, refusal);
        // end() may close the upstream while a write to it is under way
        await writeAll(to, chunk).catch((err) => {
          if (link.endingSince === null) throw err;
        });
      }
      if (n === buf.length && buf.length < maxBufferBytes) {
        buf = new Uint8Array(Math.min(buf.length * 4, maxBufferBytes));
      }
    }
    if (link.endingSince === null) await to.closeWrite();
  }

  async function serve(link: Link) {
    // Until a head is complete, look for its blank line (across chunks).
    // The first request's wait is `pending`; a later one on a keep-alive
    // connection starts with the client's first bytes after an answer, and
    // the header timeout applies to it as well (a slow second head held a
    // connection for as long as it trickled). scan() answers, for a complete
    // head the front answers itself, that answer (see http_head.ts), else null.
    const finder = new HeadFinder();
    let inHead = true;
    const scan = (chunk: Uint8Array): Uint8Array | null => {
      if (!inHead) {
        if (link.upgraded || !link.answered) return null;
        inHead = true;
        finder.reset();
        link.answered = false;
        link.headSince = clock.now();
      }
      if (finder.push(chunk) < 0) return null;
      inHead = false;
      link.headSince = null;
      settle(link);
      const head = finder.head();
      if (!head || !isUpgradeWithBody(head)) return null;
      limited.warn(
        "upgrade",
        `refused a WebSocket upgrade with a body from ${link.address}`,
      );
      return UPGRADE_WITH_BODY;
    };
    const firstBuf = new Uint8Array(4096);
    const n = await link.client.read(firstBuf);
    if (n === null || link.closed) return close(link);
    link.lastActivity = clock.now();
    const first = firstBuf.subarray(0, n);
    const refusal = scan(first);
    if (refusal) return await answerAndEnd(link, refusal);
    const upstream = await Deno.connect({
      hostname: "127.0.0.1",
      port: opts.upstreamPort,
    });
    upstream.setNoDelay(true); // see setNagle
    if (link.closed) {
      upstream.close();
      return;
    }
    link.upstream = upstream;
    link.upstreamPort = upstream.localAddr.port;
    // Registered before a byte goes up, so the HTTP server always finds it.
    byUpstreamPort.set(link.upstreamPort, link);
    if (opts.onLink) {
      await opts.onLink(link.upstreamPort, {
        address: link.address,
        port: link.port,
      });
      if (link.closed) return;
    }
    let ends = 0;
    const ended = () => {
      if (++ends === 2) close(link);
    };
    const failed = () => close(link);
    // An ending link (see end()) lasts until its client has closed too, now
    // or before (ends is 1), whatever the upstream does once end() closed it.
    const clientEnded = () => link.endingSince === null ? ended() : close(link);
    const upstreamEnded = () => {
      if (link.endingSince === null || ends === 1) ended();
    };
    const upstreamFailed = () => {
      if (link.endingSince === null || ends === 1) close(link);
    };
    pump(link, false, first, scan).then(clientEnded, failed);
    pump(link, true).then(upstreamEnded, upstreamFailed);
  }

  function accepted(conn: Deno.TcpConn) {
    const address = normalizeAddress(conn.remoteAddr.hostname);
    const key = clientKey(address);
    const counts = perClient.get(key) ?? { open: 0, pending: 0 };
    const exempt = opts.exempt?.(address) ?? false;
    if (!exempt && counts.open >= opts.maxConnectionsPerClient) {
      return refuse(conn, `${key} has ${counts.open} open, the limit`);
    }
    if (!exempt && counts.pending >= opts.maxPendingPerClient) {
      return refuse(
        conn,
        `${key} has ${counts.pending} connections without a complete request, the limit`,
      );
    }
    if (stats.open >= opts.maxConnections) {
      // Full: make room by dropping the oldest connection that has not sent
      // a request yet. A real client sends its request within milliseconds,
      // so under a flood of silent connections from many addresses it is
      // the flood that gets dropped.
      const oldest = pendingLinks.values().next().value;
      if (oldest === undefined) {
        return refuse(conn, `${stats.open} open, the limit`);
      }
      stats.evicted++;
      limited.warn(
        "evicted",
        `${stats.open} connections open, the limit: closing the oldest without a request (${oldest.address})`,
      );
      close(oldest);
    }
    const now = clock.now();
    const link: Link = {
      client: conn,
      upstream: null,
      upstreamPort: null,
      address,
      key,
      port: conn.remoteAddr.port,
      openedAt: now,
      lastActivity: now,
      pending: true,
      closed: false,
      answering: null,
      headSince: null,
      answered: false,
      upgraded: false,
      endingSince: null,
    };
    links.add(link);
    pendingLinks.add(link);
    perClient.set(key, counts);
    stats.open++;
    stats.pending++;
    counts.open++;
    counts.pending++;
    serve(link).catch((err) => {
      if (!link.closed && !closing) {
        limited.warn("serve", `connection from ${address} failed: ${err}`);
      }
      close(link);
    });
  }

  function sweep() {
    const now = clock.now();
    for (const link of links) {
      const headSince = link.pending ? link.openedAt : link.headSince;
      if (link.endingSince !== null) {
        if (now - link.endingSince >= LINGER_MS) close(link);
      } else if (
        headSince !== null && now - headSince >= opts.headerTimeoutMs
      ) {
        stats.headerTimeouts++;
        close(link);
      } else if (now - link.lastActivity >= opts.idleTimeoutMs) {
        stats.idleTimeouts++;
        close(link);
      }
    }
    sweepTimer = clock.setTimeout(sweep, opts.sweepMs ?? 1000);
  }
  sweepTimer = clock.setTimeout(sweep, opts.sweepMs ?? 1000);

  const loop = (async () => {
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing || err instanceof Deno.errors.BadResource) return;
        // EMFILE and friends: the connection stays in the kernel's queue;
        // back off instead of spinning on it.
        stats.acceptErrors++;
        limited.warn("accept", `accepting a connection failed: ${err}`);
        await new Promise((r) =>
          clock.setTimeout(() => r(null), ACCEPT_BACKOFF_MS)
        );
        continue;
      }
      if (closing) {
        conn.close();
        return;
      }
      conn.setNoDelay(true); // see setNagle
      accepted(conn);
    }
  })();

  const addr = listener.addr;
  return {
    hostname: addr.hostname,
    port: addr.port,
    clientOf(upstreamPort) {
      const link = byUpstreamPort.get(upstreamPort);
      return link && { address: link.address, port: link.port };
    },
    stats: () => Promise.resolve({ ...stats }),
    async close() {
      if (closing) return;
      closing = true;
      clock.clearTimeout(sweepTimer);
      listener.close();
      await loop;
      for (const link of [...links]) close(link);
    },
  };
}
