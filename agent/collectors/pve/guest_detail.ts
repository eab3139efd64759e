/**
 * Per-guest detail for the medium interval: each guest's config and IPs,
 * for the guests of the latest runtime list (the fast cycle's; no second
 * list).
 *
 * - Configs are read from pmxcfs (guest_config_file.ts): a file read, no
 *   process. Where the file is missing, they come from the PVE source
 *   (`…/config`) through a `GuestConfigCache`, which costs a call only when
 *   a config is missing, changed or due (see guest_cache.ts for why).
 * - IPs and file systems from the guest agent, or a container's live
 *   interfaces, are kept in a `GuestCache` too: refreshed on a staggered TTL
 *   (10 min by default), and at once when the guest starts or restarts. A
 *   container whose NICs all have static addresses in its config needs no
 *   live call at all. Guest-agent calls wait at most 5 s, and none is made
 *   while the guest is locked for a backup (its file systems may be frozen,
 *   which blocks the agent): the last answer is shown meanwhile.
 *
 * The calls run through a bounded pool rather than all at once or one by one.
 * Guest-agent facts are also spread over cycles: at most `factsPerCycle`
 * guests are asked in one cycle (each ask is a pvesh call or two, hundreds
 * of ms of CPU on a node), never-asked and restarted guests first, then the
 * most overdue; the others show their last answer until their turn. So an
 * agent starting on a node with 22 agent-enabled VMs asks 4 of them in its
 * first medium cycle instead of all 22 (44 pvesh calls), and a node where
 * many guests start at once does not stall one cycle.
 */
import type {
  CollectorError,
  GuestDetail,
  GuestFilesystem,
  GuestRuntime,
  GuestsDetail,
  GuestsRuntime,
  GuestType,
} from "@proxmon/shared";
import { usableIps } from "../ip.ts";
import { mapPool } from "../concurrency_limit.ts";
import { isRecord } from "../values.ts";
import {
  createGuestCache,
  createGuestConfigCache,
  DEFAULT_GUEST_CONFIG_TTL_MS,
  type GuestCache,
  type GuestConfig,
  type GuestConfigCache,
} from "./guest_cache.ts";
import {
  configDigest,
  guestConfigPath,
  parseGuestConfigFile,
  type ReadConfigFile,
  withoutSecrets,
} from "./guest_config_file.ts";
import {
  type IpResult,
  lxcNeedsLiveIps,
  parseGuestAgentInterfacesValue,
  parseLxcConfigIps,
  parseLxcInterfacesValue,
  qemuAgentEnabled,
} from "./guest_ips.ts";
import type { PveSource } from "./pve_source.ts";
import { parseGuestFsinfoValue } from "./guest_fsinfo.ts";

/** What the guest itself reported, kept between cycles. */
export interface GuestFacts {
  ips: string[];
  /** a VM's file systems from its guest agent; null when not asked */
  filesystems: GuestFilesystem[] | null;
  errors: CollectorError[];
}

export type GuestFactsCache = GuestCache<GuestFacts>;

/**
 * A facts cache: refreshed every `ttlMs`, and at once when the guest's
 * status changes (a start) or its uptime goes back (a restart).
 */
export function createGuestFactsCache(
  ttlMs = DEFAULT_GUEST_CONFIG_TTL_MS,
): GuestFactsCache {
  return createGuestCache(ttlMs, (g) => JSON.stringify([g.type, g.status]));
}

// A guest agent is often not up yet in a guest's first minutes; until then
// a failed call is retried every cycle instead of waiting a whole TTL.
const BOOTING_SECONDS = 300;

/** Guest-agent calls wait at most this long (a frozen guest blocks them). */
export const GUEST_AGENT_TIMEOUT_MS = 5_000;

export interface GuestDetailDeps {
  source: PveSource;
  node: string;
  concurrency: number;
  /** Where pmxcfs is mounted (`/etc/pve`). */
  pveDir: string;
  readConfigFile: ReadConfigFile;
  configs: GuestConfigCache;
  facts: GuestFactsCache;
  /** The time of this cycle, for the caches. */
  nowMs: number;
  /**
   * Most guests whose guest-agent facts are asked for in this cycle
   * (default: no limit, as for a one-shot collection).
   */
  factsPerCycle?: number;
  /** Most guests being asked at once (default: `concurrency`). */
  factsConcurrency?: number;
}

/** Deps with fresh caches, for a single collection (tests, `--once`). */
export function oneShotDetailDeps(
  deps: Omit<GuestDetailDeps, "configs" | "facts" | "nowMs">,
): GuestDetailDeps {
  return {
    ...deps,
    configs: createGuestConfigCache(),
    facts: createGuestFactsCache(),
    nowMs: 0,
  };
}

/**
 * A guest's config: from its pmxcfs file, else cached, else fetched from
 * the source and cached. A fetch that fails is reported, yields `{}` and
 * leaves nothing cached, so the next cycle retries.
 */
async function configOf(
  deps: GuestDetailDeps,
  guest: GuestRuntime,
  errors: CollectorError[],
): Promise<GuestConfig> {
  const { vmid, type } = guest;
  const path = guestConfigPath(deps.pveDir, deps.node, type, vmid);
  const text = await deps.readConfigFile(path);
  if (text !== undefined) {
    const parsed = parseGuestConfigFile(text, path);
    errors.push(...parsed.errors);
    return { ...parsed.config, digest: await configDigest(text) };
  }
  const cached = deps.configs.get(guest, deps.nowMs);
  if (cached) return cached;
  const fetched = await deps.source.get(
    `/nodes/${deps.node}/${type}/${vmid}/config`,
    "guest_config",
  );
  if (fetched.ok && isRecord(fetched.data)) {
    const config = withoutSecrets(fetched.data);
    deps.configs.set(guest, config, deps.nowMs);
    return config;
  }
  deps.configs.delete(vmid);
  errors.push(
    fetched.ok
      ? {
        tag: "guest_config",
        message: `${type} ${vmid}: config is not a JSON object`,
      }
      : fetched.error,
  );
  return {};
}

/**
 * One request for a guest's facts. A refusal `refusedIsExpected` accepts is
 * no error; other failures and unreadable answers are.
 */
async function ask<T>(
  deps: GuestDetailDeps,
  { path, tag, parse, refusedIsExpected = false, timeoutMs }: {
    path: string;
    tag: string;
    parse: (value: unknown) => { ok: true; value: T } | {
      ok: false;
      message: string;
    };
    refusedIsExpected?: boolean;
    timeoutMs?: number;
  },
): Promise<{ value: T | null; errors: CollectorError[] }> {
  const result = await deps.source.get(path, tag, { timeoutMs });
  if (!result.ok) {
    return {
      value: null,
      errors: result.refused && refusedIsExpected ? [] : [result.error],
    };
  }
  const parsed = parse(result.data);
  return parsed.ok
    ? { value: parsed.value, errors: [] }
    : { value: null, errors: [{ tag, message: parsed.message }] };
}

const ipsOf = (parse: (value: unknown) => IpResult) => (value: unknown) => {
  const out = parse(value);
  return out.ok ? { ok: true as const, value: out.ips } : out;
};

/** What the guest reports about itself, or undefined when it is not asked. */
function factsRequest(
  deps: GuestDetailDeps,
  guest: GuestRuntime,
  config: GuestConfig,
): (() => Promise<GuestFacts>) | undefined {
  const running = guest.status === "running" && !guest.template;
  if (!running) return undefined;
  const base = `/nodes/${deps.node}/${guest.type}/${guest.vmid}`;
  if (guest.type === "qemu") {
    if (!qemuAgentEnabled(config)) return undefined;
    // Agent not installed, not running, or too slow: an error entry only.
    return async () => {
      const [ips, fs] = await Promise.all([
        ask(deps, {
          path: `${base}/agent/network-get-interfaces`,
          tag: "qemu_agent",
          parse: ipsOf(parseGuestAgentInterfacesValue),
          timeoutMs: GUEST_AGENT_TIMEOUT_MS,
        }),
        ask(deps, {
          path: `${base}/agent/get-fsinfo`,
          tag: "qemu_agent_fsinfo",
          parse: (value) => {
            const out = parseGuestFsinfoValue(value);
            return out.ok ? { ok: true as const, value: out.filesystems } : out;
          },
          timeoutMs: GUEST_AGENT_TIMEOUT_MS,
        }),
      ]);
      return {
        ips: ips.value ?? [],
        filesystems: fs.value,
        // One agent that is not running fails both calls the same way.
        errors: [
          ...ips.errors,
          ...fs.errors.filter((e) =>
            !ips.errors.some((i) =>
              i.message.replace(/network-get-interfaces/g, "get-fsinfo") ===
                e.message
            )
          ),
        ],
      };
    };
  }
  if (!lxcNeedsLiveIps(config)) return undefined;
  return async () => {
    const live = await ask(deps, {
      path: `${base}/interfaces`,
      tag: "lxc_interfaces",
      parse: ipsOf(parseLxcInterfacesValue),
      // PVE releases without the interfaces endpoint refuse the path; the
      // config's addresses are then all there is.
      refusedIsExpected: true,
    });
    return { ips: live.value ?? [], filesystems: null, errors: live.errors };
  };
}

const NOTHING: GuestFacts = { ips: [], filesystems: null, errors: [] };

/**
 * A guest's facts for this cycle: known (cached, or nothing to ask), or a
 * request to make, with what to show if it has to wait for a later cycle.
 */
type FactsPlan =
  | { known: GuestFacts }
  | {
    request: () => Promise<GuestFacts>;
    /** the last answer, if any: none for a guest never asked or restarted */
    last: GuestFacts | undefined;
    /** when the last answer fell due (none: never asked) */
    dueAtMs: number | undefined;
  };

function planFacts(
  deps: GuestDetailDeps,
  guest: GuestRuntime,
  config: GuestConfig,
): FactsPlan {
  const request = factsRequest(deps, guest, config);
  if (!request) {
    deps.facts.delete(guest.vmid);
    return { known: NOTHING };
  }
  // A backup may have frozen the guest's file systems, which blocks its
  // agent: no call until the lock is gone; the last answer meanwhile.
  if (guest.lock === "backup") {
    return { known: deps.facts.peek(guest.vmid) ?? NOTHING };
  }
  const cached = deps.facts.get(guest, deps.nowMs);
  if (cached) return { known: cached };
  // `get` dropped the entry of a guest that restarted: it counts as new
  return {
    request,
    last: deps.facts.peek(guest.vmid),
    dueAtMs: deps.facts.dueAtMs(guest.vmid),
  };
}

/** Asks the guest and caches the answer (a booting guest's failure is retried next cycle). */
async function fetchFacts(
  deps: GuestDetailDeps,
  guest: GuestRuntime,
  request: () => Promise<GuestFacts>,
): Promise<GuestFacts> {
  const facts = await request();
  const booting = (guest.uptime_seconds ?? 0) < BOOTING_SECONDS;
  if (facts.errors.length === 0 || !booting) {
    deps.facts.set(guest, facts, deps.nowMs);
  }
  return facts;
}

/**
 * Which of the guests waiting for facts are asked this cycle: never asked
 * (or restarted) first, then the longest overdue; vmid breaks ties.
 */
function chooseAsked(
  waiting: { guest: GuestRuntime; dueAtMs: number | undefined }[],
  limit: number,
): Set<number> {
  const order = [...waiting].sort((a, b) =>
    (a.dueAtMs ?? -Infinity) - (b.dueAtMs ?? -Infinity) ||
    a.guest.vmid - b.guest.vmid
  );
  return new Set(order.slice(0, Math.max(0, limit)).map((w) => w.guest.vmid));
}

/** A guest's detail from its config and facts. */
function detailOf(
  guest: GuestRuntime,
  config: GuestConfig,
  facts: GuestFacts,
  errors: CollectorError[],
): GuestDetail {
  const { vmid, type, name } = guest;
  const ips = type === "qemu"
    ? facts.ips
    : usableIps([...facts.ips, ...parseLxcConfigIps(config)]);
  return {
    vmid,
    type,
    name,
    config,
    ips,
    filesystems: facts.filesystems,
    errors: [...errors, ...facts.errors],
  };
}

/**
 * The guest types whose list said which guests exist. A list that failed
 * gives no guests and an error; its guests are not known to be gone.
 */
function listedTypes(runtime: GuestsRuntime): GuestType[] {
  return (["qemu", "lxc"] as const).filter((type) =>
    runtime.vms.some((g) => g.type === type) || runtime.errors.length === 0
  );
}

/**
 * Gets every listed guest's detail with at most `concurrency` guests in
 * progress at once. A guest's own failures go to that guest's `errors`;
 * the list's errors are repeated at the top, as when this listed itself.
 * Guests no longer listed are evicted from the caches.
 */
export async function collectGuestsDetail(
  runtime: GuestsRuntime,
  deps: GuestDetailDeps,
): Promise<GuestsDetail> {
  const listed = listedTypes(runtime);
  deps.configs.retain(runtime.vms, listed);
  deps.facts.retain(runtime.vms, listed);
  // Configs first (pmxcfs reads, or a cached or fetched config each)...
  const planned = await mapPool(
    runtime.vms,
    deps.concurrency,
    async (guest) => {
      const errors: CollectorError[] = [];
      const config = await configOf(deps, guest, errors);
      return { guest, config, errors, plan: planFacts(deps, guest, config) };
    },
  );
  // ...then the guest agents, as many as this cycle allows.
  const waiting = planned.flatMap((p) =>
    "request" in p.plan ? [{ guest: p.guest, dueAtMs: p.plan.dueAtMs }] : []
  );
  const asked = chooseAsked(waiting, deps.factsPerCycle ?? Infinity);
  const answers = new Map<number, GuestFacts>();
  await mapPool(
    planned.filter((p) => asked.has(p.guest.vmid)),
    deps.factsConcurrency ?? deps.concurrency,
    async ({ guest, plan }) => {
      if ("request" in plan) {
        answers.set(guest.vmid, await fetchFacts(deps, guest, plan.request));
      }
    },
  );
  const vms = planned.map(({ guest, config, errors, plan }) =>
    detailOf(
      guest,
      config,
      "known" in plan
        ? plan.known
        : answers.get(guest.vmid) ?? plan.last ?? NOTHING,
      errors,
    )
  );
  return { vms, errors: [...runtime.errors] };
}
