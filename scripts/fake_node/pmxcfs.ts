/**
 * The simulated node's pmxcfs: `<dir>/nodes/<node>/qemu-server/<vmid>.conf`
 * and `…/lxc/<vmid>.conf`, the files the agent reads guest configs from
 * (point its `[pve] config_dir` at `<dir>`). Same configs as the fake
 * `pvesh …/config`, in the file format qemu-server and pve-container write:
 * keys sorted, `key: value`, snapshots as `[name]` sections after the
 * current config, and for cloud-init VMs the hashed `cipassword` that the
 * agent must never pass on.
 */
import type { JsonObject } from "./json_text.ts";
import type { GuestModel, NodeModel } from "./node_model.ts";
import { lxcConfig, qemuConfig } from "./tools/pvesh.ts";
import { hash32 } from "./waves.ts";

function section(config: JsonObject): string {
  return Object.keys(config).sort()
    .filter((key) => config[key] !== undefined)
    .map((key) => `${key}: ${config[key]}\n`).join("");
}

/** A guest's config file text. */
export function configFileText(model: NodeModel, g: GuestModel): string {
  const config = g.type === "qemu" ? qemuConfig(model, g) : lxcConfig(g);
  if (
    g.type === "qemu" && Object.keys(config).some((k) => /^ipconfig/.test(k))
  ) {
    // A SHA-256 crypt hash, as `qm set --cipassword` stores it.
    config.cipassword = `$5$${hash32(`salt${g.vmid}`).toString(16)}$` +
      "y/WSieEoahTOT93Tw4BXJtpE5rhtPTWsHyOSxrr2IR4";
    config.ciuser = "admin";
  }
  // Every third guest has a snapshot from before an upgrade, with other values.
  if (g.vmid % 3 !== 0) return section(config);
  const snapshot: JsonObject = {
    ...config,
    cores: Number(config.cores ?? 1) * 2,
    snaptime: 1_750_000_000 + g.vmid,
  };
  delete snapshot.digest;
  return section({ ...config, parent: "before-upgrade" }) +
    `\n[before-upgrade]\n${section(snapshot)}`;
}

/** Writes every guest's config file under `dir`; returns `dir`. */
export async function writePmxcfs(
  dir: string,
  model: NodeModel,
): Promise<string> {
  const base = `${dir}/nodes/${model.node}`;
  await Deno.mkdir(`${base}/qemu-server`, { recursive: true });
  await Deno.mkdir(`${base}/lxc`, { recursive: true });
  for (const g of model.guests) {
    const sub = g.type === "qemu" ? "qemu-server" : "lxc";
    await Deno.writeTextFile(
      `${base}/${sub}/${g.vmid}.conf`,
      configFileText(model, g),
    );
  }
  return dir;
}
