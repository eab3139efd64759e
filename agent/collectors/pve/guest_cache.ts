/**
 * Per-guest facts kept from one medium cycle to the next: configs fetched
 * through pvesh or the API (when pmxcfs has no file to read), and what the
 * guest agent or the container reports (IPs).
 *
 * Every `pvesh` call starts Perl on the PVE node (0.3–1 s of CPU), and each
 * of these takes one call per guest: refetching all of them every cycle made
 * a 50-guest node spend most of a core on being monitored, for data that
 * rarely changes. So a value is refetched only when
 * - it is not cached (first sight of the guest, or its last fetch failed),
 * - the guest's entry in the runtime list changed in a way that matters for
 *   the value (`identity`: for a config, what an edit or a restart shows:
 *   name, status, template flag, cpus, max memory, max disk, tags, type; for
 *   guest-agent facts, the status) or its uptime went backwards (a restart),
 *   or
 * - it is due: each guest is refetched once per TTL at its own phase within
 *   the TTL, spread by vmid, so a node's configs do not all expire in the same
 *   cycle (50 guests, 10 min TTL, 60 s cycle: about 5 configs a cycle). Any
 *   other fetch (first sight, change, retry) is next refreshed at the guest's
 *   phase between ½ and 1½ TTL later, so the refreshes after a start are
 *   spread out too.
 *
 * The cache lives in the object `createCollectors` returns; time comes in as
 * `nowMs` (any clock, as long as it is the same one every cycle).
 */
import type { GuestRuntime, GuestType } from "@proxmon/shared";

/** How long a cached config is used before its scheduled refresh. */
export const DEFAULT_GUEST_CONFIG_TTL_MS = 10 * 60_000;

export type GuestConfig = Record<string, unknown>;

interface Entry<T> {
  type: GuestType;
  value: T;
  /** The runtime fields that invalidate the value, as the fetch saw them. */
  identity: string;
  /** The uptime of the latest list, to notice a restart. */
  uptimeSeconds: number | null;
  dueAtMs: number;
}

export interface GuestCache<T> {
  /**
   * The cached value of `guest`, or `undefined` when it must be fetched:
   * not cached, due, or changed since (an entry that changed is dropped).
   */
  get(guest: GuestRuntime, nowMs: number): T | undefined;
  /** The value kept for `vmid`, due or not (to show while a guest is busy). */
  peek(vmid: number): T | undefined;
  /** When the value kept for `vmid` is (or was) due; undefined when none is kept. */
  dueAtMs(vmid: number): number | undefined;
  /** Keeps a value just fetched for `guest` and schedules its refresh. */
  set(guest: GuestRuntime, value: T, nowMs: number): void;
  /** Forgets a guest, e.g. after a failed fetch, so the next cycle retries. */
  delete(vmid: number): void;
  /**
   * Forgets the guests of the `listed` types that are not in `guests`: those
   * lists answered, and the guests are gone.
   */
  retain(guests: readonly GuestRuntime[], listed: readonly GuestType[]): void;
  /** How many guests have a value cached. */
  readonly size: number;
}

export type GuestConfigCache = GuestCache<GuestConfig>;

// The fractional parts of vmid·φ spread any run of vmids evenly over [0, 1).
const GOLDEN_RATIO_FRACTION = 0.6180339887498949;

/**
 * The first refresh time of `vmid` after `afterMs`: the guest's refreshes
 * fall on a grid of period `ttlMs`, shifted by a phase taken from its vmid.
 */
export function nextRefreshMs(
  vmid: number,
  afterMs: number,
  ttlMs: number,
): number {
  if (ttlMs <= 0) return afterMs;
  const phase = ((vmid * GOLDEN_RATIO_FRACTION) % 1) * ttlMs;
  return phase + (Math.floor((afterMs - phase) / ttlMs) + 1) * ttlMs;
}

/** The runtime fields a config edit (or a start/stop) changes. */
export function configIdentity(guest: GuestRuntime): string {
  return JSON.stringify([
    guest.type,
    guest.name,
    guest.status,
    guest.template,
    guest.cpus,
    guest.max_mem_bytes,
    guest.max_disk_bytes ?? null,
    guest.tags,
  ]);
}

function restarted<T>(entry: Entry<T>, guest: GuestRuntime): boolean {
  return entry.uptimeSeconds !== null && guest.uptime_seconds !== null &&
    guest.uptime_seconds < entry.uptimeSeconds;
}

/**
 * Creates an empty cache whose configs are refreshed every `ttlMs`
 * (0: every cycle).
 */
export function createGuestConfigCache(
  ttlMs = DEFAULT_GUEST_CONFIG_TTL_MS,
): GuestConfigCache {
  return createGuestCache(ttlMs, configIdentity);
}

/**
 * Creates an empty cache whose values are refreshed every `ttlMs` (0: every
 * cycle), and at once when `identity(guest)` changes or the guest restarts.
 */
export function createGuestCache<T>(
  ttlMs: number,
  identity: (guest: GuestRuntime) => string,
): GuestCache<T> {
  if (!(ttlMs >= 0 && Number.isFinite(ttlMs))) {
    throw new RangeError(`guest cache TTL must be >= 0 ms, got ${ttlMs}`);
  }
  const entries = new Map<number, Entry<T>>();
  return {
    get(guest, nowMs) {
      const entry = entries.get(guest.vmid);
      if (!entry) return undefined;
      if (identity(guest) !== entry.identity || restarted(entry, guest)) {
        entries.delete(guest.vmid);
        return undefined;
      }
      entry.uptimeSeconds = guest.uptime_seconds;
      return entry.dueAtMs <= nowMs ? undefined : entry.value;
    },
    peek(vmid) {
      return entries.get(vmid)?.value;
    },
    dueAtMs(vmid) {
      return entries.get(vmid)?.dueAtMs;
    },
    set(guest, value, nowMs) {
      const previous = entries.get(guest.vmid);
      // A refresh on schedule keeps the guest's phase; any other fetch waits
      // at least half a TTL, so it is not followed by a refresh at once.
      const after = previous && previous.dueAtMs <= nowMs
        ? nowMs
        : nowMs + ttlMs / 2;
      let dueAtMs = nextRefreshMs(guest.vmid, after, ttlMs);
      // A refresh that had to wait (a per-cycle limit) may land just before
      // its next grid point: skip that one rather than ask again at once.
      if (dueAtMs - nowMs < ttlMs / 2) dueAtMs += ttlMs;
      entries.set(guest.vmid, {
        type: guest.type,
        value,
        identity: identity(guest),
        uptimeSeconds: guest.uptime_seconds,
        dueAtMs,
      });
    },
    delete(vmid) {
      entries.delete(vmid);
    },
    retain(guests, listed) {
      const present = new Set(guests.map((g) => g.vmid));
      for (const [vmid, entry] of entries) {
        if (listed.includes(entry.type) && !present.has(vmid)) {
          entries.delete(vmid);
        }
      }
    },
    get size() {
      return entries.size;
    },
  };
}
