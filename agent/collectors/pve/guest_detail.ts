/**
 * Per-guest detail for the medium interval: each guest's config and IPs.
 * IPs are asked for every cycle (one `pvesh` call per running guest); configs
 * come from a `GuestConfigCache` and cost a call only when missing, changed or
 * due (see guest_config_cache.ts for why). The calls run through a bounded
 * pool rather than all at once or one by one.
 */
import type {
  CollectorError,
  GuestDetail,
  GuestRuntime,
  GuestsDetail,
  GuestsRuntime,
  GuestType,
} from "@proxmon/shared";
import type { CommandError } from "../../runner.ts";
import {
  type Command,
  guestConfig,
  lxcInterfaces,
  qemuAgentInterfaces,
} from "../commands.ts";
import { describeFailure, type Exec, runCommand, runJson } from "../exec.ts";
import { usableIps } from "../ip.ts";
import { mapPool } from "../concurrency_limit.ts";
import { isRecord } from "../values.ts";
import {
  createGuestConfigCache,
  type GuestConfig,
  type GuestConfigCache,
} from "./guest_config_cache.ts";
import {
  type IpResult,
  parseGuestAgentInterfaces,
  parseLxcConfigIps,
  parseLxcInterfaces,
  qemuAgentEnabled,
} from "./guest_ips.ts";
import { collectGuestsRuntime } from "./guest_lists.ts";

/** Where guest configs come from: the cache and the time of this cycle. */
export interface GuestConfigSource {
  cache: GuestConfigCache;
  nowMs: number;
}

/**
 * A guest's live IPs from one pvesh call, or none. A failure `expected`
 * accepts is no error; other failures and unreadable output go to `errors`
 * under `tag`, and the guest keeps its other data.
 */
async function liveIps(
  exec: Exec,
  errors: CollectorError[],
  { command, tag, parse, expected = () => false }: {
    command: Command;
    tag: string;
    parse: (text: string) => IpResult;
    expected?: (error: CommandError) => boolean;
  },
): Promise<string[]> {
  const result = await runCommand(exec, command);
  if (!result.ok) {
    if (!expected(result.error)) {
      errors.push({ tag, message: describeFailure(command, result.error) });
    }
    return [];
  }
  const ips = parse(result.stdout);
  if (!ips.ok) errors.push({ tag, message: ips.message });
  return ips.ok ? ips.ips : [];
}

/**
 * A guest's config: cached, or fetched and cached. A fetch that fails is
 * reported, yields `{}` and leaves nothing cached, so the next cycle retries.
 */
async function configOf(
  exec: Exec,
  node: string,
  guest: GuestRuntime,
  { cache, nowMs }: GuestConfigSource,
  errors: CollectorError[],
): Promise<GuestConfig> {
  const cached = cache.get(guest, nowMs);
  if (cached) return cached;
  const { vmid, type } = guest;
  const fetched = await runJson(
    exec,
    guestConfig(node, type, vmid),
    "guest_config",
  );
  if (fetched.ok && isRecord(fetched.value)) {
    cache.set(guest, fetched.value, nowMs);
    return fetched.value;
  }
  cache.delete(vmid);
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

/** Config and IPs of one guest. Failures land in the guest's own `errors`. */
async function guestDetail(
  exec: Exec,
  node: string,
  guest: GuestRuntime,
  configs: GuestConfigSource,
): Promise<GuestDetail> {
  const errors: CollectorError[] = [];
  const { vmid, type, name } = guest;
  const config = await configOf(exec, node, guest, configs, errors);

  const running = guest.status === "running" && !guest.template;
  let ips: string[] = [];
  if (type === "qemu") {
    if (running && qemuAgentEnabled(config)) {
      // Agent not installed, not running, or too slow: an error entry only.
      ips = await liveIps(exec, errors, {
        command: qemuAgentInterfaces(node, vmid),
        tag: "qemu_agent",
        parse: parseGuestAgentInterfaces,
      });
    }
  } else {
    const live = running
      ? await liveIps(exec, errors, {
        command: lxcInterfaces(node, vmid),
        tag: "lxc_interfaces",
        parse: parseLxcInterfaces,
        // PVE releases without the interfaces endpoint make pvesh exit
        // non-zero; the config's addresses are then all there is.
        expected: (error) => error.kind === "nonzero_exit",
      })
      : [];
    ips = usableIps([...live, ...parseLxcConfigIps(config)]);
  }
  return { vmid, type, name, config, ips, errors };
}

/**
 * The guest types whose list said which guests exist. A list that failed as a
 * whole gives no guests and an error; its guests are not known to be gone.
 */
function listedTypes(runtime: GuestsRuntime): GuestType[] {
  return (["qemu", "lxc"] as const).filter((type) =>
    runtime.vms.some((g) => g.type === type) ||
    !runtime.errors.some((e) => e.tag === `${type}_list`)
  );
}

/**
 * Lists the guests, then gets every guest's detail with at most
 * `concurrency` guests in progress at once. List failures go to the
 * top-level `errors`; a guest's own failures go to that guest's `errors`.
 * Configs come from `configs.cache` where it has them (without `configs`,
 * every config is fetched); guests no longer listed are evicted from it.
 */
export async function collectGuestsDetail(
  exec: Exec,
  node: string,
  concurrency: number,
  configs: GuestConfigSource = {
    cache: createGuestConfigCache(),
    nowMs: 0,
  },
): Promise<GuestsDetail> {
  const runtime = await collectGuestsRuntime(exec, node);
  configs.cache.retain(runtime.vms, listedTypes(runtime));
  const vms = await mapPool(
    runtime.vms,
    concurrency,
    (guest) => guestDetail(exec, node, guest, configs),
  );
  return { vms, errors: runtime.errors };
}
