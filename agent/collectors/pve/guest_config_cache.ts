/**
 * Guest configs kept from one medium cycle to the next.
 *
 * Every `pvesh` call starts Perl on the PVE node (0.3–1 s of CPU), and a
 * config takes one call per guest: refetching all of them every cycle made a
 * 50-guest node spend most of a core on being monitored, for data that
 * rarely changes. So a config is refetched only when
 * - it is not cached (first sight of the guest, or its last fetch failed),
 * - the guest's entry in the runtime list changed in a way a config edit or a
 *   restart shows (name, status, template flag, cpus, max memory, max disk,
 *   tags, type; uptime going backwards), or
 * - it is due: each guest is refetched once per TTL at its own phase within
 *   the TTL, spread by vmid, so a node's configs do not all expire in the same
 *   cycle (50 guests, 10 min TTL, 60 s cycle: about 5 configs a cycle). Any
 *   other fetch (first sight, change, retry) is next refreshed at the guest's
 *   phase between ½ and 1½ TTL later, so the refreshes after a start are
 *   spread out too.
 *
 * IPs change more often and are not cached here.
 *
 * The cache lives in the object `createCollectors` returns; time comes in as
 * `nowMs` (any clock, as long as it is the same one every cycle).
 */
import type { GuestRuntime, GuestType } from "@proxmon/shared";

/** How long a cached config is used before its scheduled refresh. */
export const DEFAULT_GUEST_CONFIG_TTL_MS = 10 * 60_000;

export type GuestConfig = Record<string, unknown>;

interface Entry {
  type: GuestType;
  config: GuestConfig;
  /** The runtime fields a config edit changes, as the fetch saw them. */
  identity: string;
  /** The uptime of the latest list, to notice a restart. */
  uptimeSeconds: number | null;
  dueAtMs: number;
}

export interface GuestConfigCache {
  /**
   * The cached config of `guest`, or `undefined` when it must be fetched:
   * not cached, due, or changed since (an entry that changed is dropped).
   */
  get(guest: GuestRuntime, nowMs: number): GuestConfig | undefined;
  /** Keeps a config just fetched for `guest` and schedules its refresh. */
  set(guest: GuestRuntime, config: GuestConfig, nowMs: number): void;
  /** Forgets a guest, e.g. after a failed fetch, so the next cycle retries. */
  delete(vmid: number): void;
  /**
   * Forgets the guests of the `listed` types that are not in `guests`: those
   * lists answered, and the guests are gone.
   */
  retain(guests: readonly GuestRuntime[], listed: readonly GuestType[]): void;
  /** How many configs are cached. */
  readonly size: number;
}

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

function identityOf(guest: GuestRuntime): string {
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

function restarted(entry: Entry, guest: GuestRuntime): boolean {
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
  if (!(ttlMs >= 0 && Number.isFinite(ttlMs))) {
    throw new RangeError(`guest config TTL must be >= 0 ms, got ${ttlMs}`);
  }
  const entries = new Map<number, Entry>();
  return {
    get(guest, nowMs) {
      const entry = entries.get(guest.vmid);
      if (!entry) return undefined;
      if (identityOf(guest) !== entry.identity || restarted(entry, guest)) {
        entries.delete(guest.vmid);
        return undefined;
      }
      entry.uptimeSeconds = guest.uptime_seconds;
      return entry.dueAtMs <= nowMs ? undefined : entry.config;
    },
    set(guest, config, nowMs) {
      const previous = entries.get(guest.vmid);
      // A refresh on schedule keeps the guest's phase; any other fetch waits
      // at least half a TTL, so it is not followed by a refresh at once.
      const after = previous && previous.dueAtMs <= nowMs
        ? nowMs
        : nowMs + ttlMs / 2;
      entries.set(guest.vmid, {
        type: guest.type,
        config,
        identity: identityOf(guest),
        uptimeSeconds: guest.uptime_seconds,
        dueAtMs: nextRefreshMs(guest.vmid, after, ttlMs),
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
