/**
 * The live agent sockets of this server process: every open connection, and
 * for each host the one joined connection that speaks for it. The socket
 * layer registers here; shutdown and token checks act on it.
 */
import {
  CLOSE_CODES,
  type ErrorMessage,
  type ErrorReason,
} from "@proxmon/shared";
import type { Clock } from "@proxmon/shared/clock";
import { type Periodic, startPeriodic } from "@proxmon/shared/periodic";
import { withTimeout } from "@proxmon/shared/timeout";
import type { Database } from "../store/client.ts";
import { tokenHashes } from "../store/hosts.ts";
import type { Logger } from "@proxmon/shared/logger";

/** What the registry needs to know about one agent connection. */
export interface AgentConnection {
  /** set once the connection has joined */
  readonly joined:
    | { hostId: number; hostName: string; tokenHash: string }
    | null;
  /**
   * Sends `{"type":"error","reason":…}`, closes the socket and settles the
   * host's status; resolves when that bookkeeping is written.
   */
  terminate(
    reason: ErrorReason,
    code: number,
    details?: Omit<ErrorMessage, "type" | "reason">,
  ): Promise<void>;
  /** resolves once the socket itself reports closed (handshake done) */
  readonly socketClosed: Promise<void>;
}

export interface AgentRegistry {
  /** Tracks an open connection, joined or not. */
  add(conn: AgentConnection): void;
  /** Forgets a connection; true if it was its host's current one. */
  remove(conn: AgentConnection): boolean;
  /** Makes a joined connection its host's current one; returns the one it replaces. */
  claim(hostId: number, conn: AgentConnection): AgentConnection | undefined;
  /** The current connection of a host. */
  current(hostId: number): AgentConnection | undefined;
  /** Every open connection. */
  all(): AgentConnection[];
  /** Every host's current connection, by host id. */
  joined(): Map<number, AgentConnection>;
}

/** Creates an empty registry. */
export function createAgentRegistry(): AgentRegistry {
  const open = new Set<AgentConnection>();
  const byHost = new Map<number, AgentConnection>();
  return {
    add: (conn) => void open.add(conn),
    remove(conn) {
      open.delete(conn);
      const hostId = conn.joined?.hostId;
      if (hostId === undefined || byHost.get(hostId) !== conn) return false;
      byHost.delete(hostId);
      return true;
    },
    claim(hostId, conn) {
      const previous = byHost.get(hostId);
      byHost.set(hostId, conn);
      return previous === conn ? undefined : previous;
    },
    current: (hostId) => byHost.get(hostId),
    all: () => [...open],
    joined: () => new Map(byHost),
  };
}

/**
 * Closes every connection, e.g. at shutdown, and waits for the bookkeeping
 * and for each close handshake, up to `waitMs`: a process that exits
 * sooner can drop the error message and close frame still queued.
 */
export async function closeAllAgents(
  agents: AgentRegistry,
  reason: ErrorReason,
  code: number,
  { clock, waitMs }: { clock: Clock; waitMs: number },
): Promise<void> {
  const conns = agents.all();
  await Promise.all(conns.map((c) => c.terminate(reason, code)));
  await withTimeout(
    Promise.all(conns.map((c) => c.socketClosed)),
    waitMs,
    () => undefined,
    clock,
  );
}

/**
 * Closes every joined connection whose host was removed or whose token was
 * rotated since it joined. The CLI changes tokens from another process, so
 * the server learns of it only by looking. Returns how many were closed.
 */
export async function revokeStaleAgents(
  database: Database,
  agents: AgentRegistry,
): Promise<number> {
  const live = agents.joined();
  if (live.size === 0) return 0;
  const hashes = await tokenHashes(database, [...live.keys()]);
  const stale = [...live].filter(([hostId, conn]) =>
    hashes.get(hostId) !== conn.joined?.tokenHash
  );
  await Promise.all(
    stale.map(([, conn]) =>
      conn.terminate("unauthorized", CLOSE_CODES.refused)
    ),
  );
  return stale.length;
}

/** Runs {@link revokeStaleAgents} every `intervalMs` until stopped. */
export function startTokenWatch(
  { database, agents, clock, log, intervalMs }: {
    database: Database;
    agents: AgentRegistry;
    clock: Clock;
    log: Logger;
    intervalMs: number;
  },
): Periodic {
  return startPeriodic({
    clock,
    intervalMs,
    run: async () => {
      const n = await revokeStaleAgents(database, agents);
      if (n > 0) {
        log.info(`closed ${n} agent connection(s) with a revoked token`);
      }
    },
    onError: (err) => log.error("token check failed:", err),
  });
}
