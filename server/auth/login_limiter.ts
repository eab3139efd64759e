/**
 * Counts failed logins per client and refuses further tries once a client
 * has failed too often inside a sliding window. The state lives in the
 * object the caller owns, so each app (and each test) gets its own.
 */

export interface LoginLimiterOptions {
  /** failures allowed inside one window before the client must wait */
  maxFailures?: number;
  windowMs?: number;
  /** unix milliseconds; injected so tests can move time */
  now: () => number;
  /** clients remembered at most; bounds memory under a spray of addresses */
  maxClients?: number;
}

export interface LoginLimiter {
  /** Whole seconds `client` must wait before trying again; 0 when it may try now. */
  retryAfterSeconds(client: string): number;
  /** Records one failed attempt by `client`. */
  recordFailure(client: string): void;
  /** Forgets `client`'s failures, after a successful login. */
  reset(client: string): void;
  /** Takes back the latest failure of `client` (counted before a check that then passed). */
  forgetOne(client: string): void;
}

/** Creates a limiter: by default 5 failures per minute per client. */
export function createLoginLimiter(opts: LoginLimiterOptions): LoginLimiter {
  const maxFailures = opts.maxFailures ?? 5;
  const windowMs = opts.windowMs ?? 60_000;
  const maxClients = opts.maxClients ?? 10_000;
  const failures = new Map<string, number[]>();

  const recent = (client: string, now: number): number[] => {
    const times = (failures.get(client) ?? []).filter((t) =>
      t > now - windowMs
    );
    if (times.length === 0) failures.delete(client);
    else failures.set(client, times);
    return times;
  };

  const evict = (now: number) => {
    for (const client of [...failures.keys()]) recent(client, now);
    // Still full of live entries: drop the oldest-inserted clients first.
    for (const client of failures.keys()) {
      if (failures.size < maxClients) break;
      failures.delete(client);
    }
  };

  return {
    retryAfterSeconds(client) {
      const now = opts.now();
      const times = recent(client, now);
      if (times.length < maxFailures) return 0;
      const freeAt = times[times.length - maxFailures] + windowMs;
      return Math.max(1, Math.ceil((freeAt - now) / 1000));
    },
    recordFailure(client) {
      const now = opts.now();
      if (!failures.has(client) && failures.size >= maxClients) evict(now);
      failures.set(client, [...recent(client, now), now]);
    },
    reset(client) {
      failures.delete(client);
    },
    forgetOne(client) {
      const times = failures.get(client);
      times?.pop();
      if (times?.length === 0) failures.delete(client);
    },
  };
}
