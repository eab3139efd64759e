/**
 * Per-guest detail for the medium interval: each guest's config and IPs.
 * That is one to two `pvesh` calls per guest, so they run through a bounded
 * pool rather than all at once or one by one.
 */
import type {
  CollectorError,
  VmDetail,
  VmRuntime,
  VmsDetail,
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
import { mapPool } from "../pool.ts";
import { isRecord } from "../values.ts";
import {
  type IpResult,
  parseGuestAgentInterfaces,
  parseLxcConfigIps,
  parseLxcInterfaces,
  qemuAgentEnabled,
} from "./guest_ips.ts";
import { collectVmsRuntime } from "./guest_lists.ts";

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

/** Config and IPs of one guest. Failures land in the guest's own `errors`. */
async function guestDetail(
  exec: Exec,
  node: string,
  guest: VmRuntime,
): Promise<VmDetail> {
  const errors: CollectorError[] = [];
  const { vmid, type, name } = guest;
  let config: Record<string, unknown> = {};
  const fetched = await runJson(
    exec,
    guestConfig(node, type, vmid),
    "guest_config",
  );
  if (!fetched.ok) errors.push(fetched.error);
  else if (!isRecord(fetched.value)) {
    errors.push({
      tag: "guest_config",
      message: `${type} ${vmid}: config is not a JSON object`,
    });
  } else config = fetched.value;

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
 * Lists the guests, then fetches every guest's detail with at most
 * `concurrency` guests in progress at once. List failures go to the
 * top-level `errors`; a guest's own failures go to that guest's `errors`.
 */
export async function collectVmsDetail(
  exec: Exec,
  node: string,
  concurrency: number,
): Promise<VmsDetail> {
  const runtime = await collectVmsRuntime(exec, node);
  const vms = await mapPool(
    runtime.vms,
    concurrency,
    (guest) => guestDetail(exec, node, guest),
  );
  return { vms, errors: runtime.errors };
}
