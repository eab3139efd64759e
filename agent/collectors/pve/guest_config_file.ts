/**
 * Guest configs read from pmxcfs, `/etc/pve/nodes/<node>/qemu-server/<vmid>.conf`
 * and `…/lxc/<vmid>.conf`, instead of one `pvesh …/config` call (a Perl
 * start-up) per guest. The file is what `qm config`/`pct config` read.
 *
 * Format (qemu-server `parse_vm_config`, pve-container `parse_pct_config`):
 * `key: value` lines; `#` lines before the first key are the description
 * (URI-escaped); raw LXC keys (`lxc.apparmor.profile`) may use `=`; then
 * `[name]` sections for each snapshot, `[PENDING]` for changes not applied
 * yet, `[special:cloudinit]`. Only the current config, before the first
 * section, is read. Values stay strings: the file has no types (pvesh prints
 * numbers where the schema says integer), and every reader of configs here
 * accepts both.
 */
import type { CollectorError, GuestType } from "@proxmon/shared";
import type { GuestConfig } from "./guest_cache.ts";

/** Config keys whose values are secrets and never leave the node. */
export const SECRET_CONFIG_KEYS: ReadonlySet<string> = new Set(["cipassword"]);

/** `config` without secret values (a hashed cloud-init password, …). */
export function withoutSecrets(config: GuestConfig): GuestConfig {
  const out: GuestConfig = {};
  for (const [key, value] of Object.entries(config)) {
    if (!SECRET_CONFIG_KEYS.has(key)) out[key] = value;
  }
  return out;
}

/** Where pmxcfs keeps a guest's config, under `pveDir` (`/etc/pve`). */
export function guestConfigPath(
  pveDir: string,
  node: string,
  type: GuestType,
  vmid: number,
): string {
  const dir = type === "qemu" ? "qemu-server" : "lxc";
  return `${pveDir.replace(/\/+$/, "")}/nodes/${node}/${dir}/${vmid}.conf`;
}

const KEY_VALUE = /^([a-z][a-z0-9_-]*)\s*:\s*(.*?)\s*$/i;
const RAW_LXC = /^(lxc\.[a-z0-9_.-]+)\s*[:=]\s*(.*?)\s*$/i;
const SECTION = /^\[[^\]]+\]\s*$/;

function decodeDescription(line: string): string {
  try {
    return decodeURIComponent(line);
  } catch {
    return line;
  }
}

/**
 * The current section of a guest config file as an object, secrets removed;
 * lines it cannot read go to `errors` (tag `guest_config`).
 */
export function parseGuestConfigFile(
  text: string,
  label: string,
): { config: GuestConfig; errors: CollectorError[] } {
  const config: GuestConfig = {};
  const errors: CollectorError[] = [];
  const description: string[] = [];
  const raw: [string, string][] = [];
  for (const line of text.split("\n")) {
    if (SECTION.test(line)) break;
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      description.push(decodeDescription(line.slice(1)));
      continue;
    }
    const lxc = RAW_LXC.exec(line);
    if (lxc) {
      raw.push([lxc[1], lxc[2]]);
      continue;
    }
    const kv = KEY_VALUE.exec(line);
    if (kv) {
      config[kv[1]] = kv[2];
      continue;
    }
    errors.push({
      tag: "guest_config",
      message: `${label}: unreadable line ${JSON.stringify(line)}`,
    });
  }
  if (description.length > 0 && config.description === undefined) {
    config.description = description.join("\n");
  }
  // pvesh lists raw LXC keys as [key, value] pairs under `lxc`.
  if (raw.length > 0) config.lxc = raw;
  return { config: withoutSecrets(config), errors };
}

/** The file's SHA-1, as PVE's `digest` field (sha1_hex of the raw file). */
export async function configDigest(text: string): Promise<string> {
  const hash = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(text),
  );
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Reads a config file's text; undefined when pmxcfs has no such file. */
export type ReadConfigFile = (path: string) => Promise<string | undefined>;

export const readConfigFile: ReadConfigFile = async (path) => {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.NotCapable
    ) {
      return undefined;
    }
    throw e;
  }
};
