/**
 * The fake `pvesh get …`: the node endpoints the agent reads, in the shape
 * PVE prints them (`--output-format json` is one line with sorted keys;
 * fields as listed in pve-storage, qemu-server and pve-container). Errors
 * go to stderr with exit 255, as pvesh's CLI handler does.
 */
import { guestPressureAvg10 } from "../cgroup.ts";
import { type JsonObject, jsonText, type JsonValue } from "../json_text.ts";
import {
  type GuestModel,
  isPve9,
  isUp,
  type NicModel,
  type NodeModel,
} from "../node_model.ts";
import { counter, hash32, level } from "../waves.ts";
import { fail, ok, type ToolResult } from "./tool_result.ts";
import { healthRoute } from "./pvesh_health.ts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const PVESH_ERROR = 255;

/** Answers one pvesh command line at `nowMs`. */
export function pvesh(
  model: NodeModel,
  args: string[],
  nowMs: number,
): ToolResult {
  const [command, path, ...rest] = args;
  if (command !== "get") {
    if (["set", "create", "delete", "ls", "usage", "help"].includes(command)) {
      return fail(`fake pvesh: '${command}' is not simulated, only 'get'\n`, 2);
    }
    return fail(
      `ERROR: unknown command 'pvesh ${command ?? ""}'\n` +
        "USAGE: pvesh <COMMAND> [ARGS] [OPTIONS]\n",
      PVESH_ERROR,
    );
  }
  if (path === undefined) {
    return fail(
      "400 not enough arguments\npvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]\n",
      PVESH_ERROR,
    );
  }
  const format = readFormat(rest);
  if (!format.ok) return fail(format.message, PVESH_ERROR);
  const health = healthRoute(
    model,
    path.replace(/\/+$/, ""),
    format.params,
    nowMs / 1000,
  );
  if (format.value !== "json" && format.value !== "json-pretty") {
    return fail(
      `fake pvesh: --output-format ${format.value} is not simulated; use json\n`,
      2,
    );
  }
  const answer: Answer = health ??
    route(model, path.replace(/\/+$/, ""), nowMs / 1000);
  if ("error" in answer) return fail(answer.error, PVESH_ERROR);
  const text = format.value === "json"
    ? jsonText(answer.data, { sortKeys: true })
    : JSON.stringify(sortDeep(answer.data), null, 3);
  return ok(`${text}\n`, answer.warnings ?? "");
}

type Answer = { data: JsonValue; warnings?: string } | { error: string };

// The API parameters the simulated endpoints take, as `--name value`.
const PARAMS = new Set(["typefilter", "limit", "content", "guest", "start"]);

/**
 * The same endpoints through the HTTPS API (`GET /api2/json/PATH`): the
 * data, or the error as pveproxy sends it (501 for a path with no handler,
 * 500 with the message otherwise).
 */
export function pveApiAnswer(
  model: NodeModel,
  path: string,
  nowMs: number,
  params: Record<string, string> = {},
): JsonValue | { status: number; message: string } {
  const clean = path.replace(/\/+$/, "");
  const answer = healthRoute(model, clean, params, nowMs / 1000) ??
    route(model, clean, nowMs / 1000);
  if (!("error" in answer)) return answer.data;
  const message = answer.error.trim();
  return /^no 'get' handler/.test(message)
    ? { status: 501, message: `Method 'GET ${path}' not implemented` }
    : { status: 500, message };
}

function readFormat(
  rest: string[],
):
  | { ok: true; value: string; params: Record<string, string> }
  | { ok: false; message: string } {
  let value = "text";
  const params: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) {
      return { ok: false, message: `400 too many arguments\n` };
    }
    const [, name, inline] = m;
    if (PARAMS.has(name)) {
      const given = inline ?? rest[++i];
      if (given === undefined) {
        return { ok: false, message: `missing value for '${name}'\n` };
      }
      params[name] = given;
      continue;
    }
    if (name !== "output-format") {
      return {
        ok: false,
        message:
          `400 Parameter verification failed.\n${name}: property is not defined in schema ` +
          "and the schema does not allow additional properties\n",
      };
    }
    const v = inline ?? rest[++i];
    if (v === undefined) {
      return { ok: false, message: "missing value for 'output-format'\n" };
    }
    value = v;
  }
  return { ok: true, value, params };
}

function route(model: NodeModel, path: string, now: number): Answer {
  if (path === "/cluster/resources") {
    return { data: clusterResources(model, now) };
  }
  const m = /^\/nodes\/([^/]+)(\/.*)?$/.exec(path);
  if (!m) return { error: `no 'get' handler for '${path}'\n` };
  const [, node, sub = ""] = m;
  if (node !== model.node && node !== "localhost") {
    return {
      error:
        `hostname lookup '${node}' failed - failed to get address info for: ${node}: ` +
        "Name or service not known\n",
    };
  }
  if (sub === "/storage") return { ...storageList(model) };
  if (sub === "/qemu") {
    return {
      data: guestsOf(model, "qemu").map((g) => qemuStatus(model, g, now)),
    };
  }
  if (sub === "/lxc") {
    return {
      data: guestsOf(model, "lxc").map((g) => lxcStatus(model, g, now)),
    };
  }
  const g = /^\/(qemu|lxc)\/(\d+)(\/.*)$/.exec(sub);
  if (!g) return { error: `no 'get' handler for '${path}'\n` };
  const [, type, id, leaf] = g;
  const guest = model.guests.find((x) =>
    x.vmid === Number(id) && x.type === type
  );
  const known = [
    "/config",
    "/agent/network-get-interfaces",
    "/agent/get-fsinfo",
    "/interfaces",
  ];
  if (
    !known.includes(leaf) || (type === "lxc" && leaf.startsWith("/agent")) ||
    (type === "qemu" && leaf === "/interfaces")
  ) {
    return { error: `no 'get' handler for '${path}'\n` };
  }
  if (!guest) {
    const dir = type === "qemu" ? "qemu-server" : "lxc";
    return {
      error:
        `Configuration file 'nodes/${model.node}/${dir}/${id}.conf' does not exist\n`,
    };
  }
  if (leaf === "/config") {
    return {
      data: type === "qemu" ? qemuConfig(model, guest) : lxcConfig(guest),
    };
  }
  if (leaf === "/interfaces") return { data: lxcInterfaces(guest) };
  if (leaf === "/agent/get-fsinfo") return qemuAgentFsinfo(guest);
  return qemuAgentInterfaces(guest, now);
}

function guestsOf(model: NodeModel, type: "qemu" | "lxc"): GuestModel[] {
  // PVE returns Perl hash order, which is no order at all
  return model.guests.filter((g) => g.type === type)
    .sort((a, b) => hash32(`o${a.vmid}`) - hash32(`o${b.vmid}`));
}

// ---- storage ---------------------------------------------------------------

function storageList(model: NodeModel): { data: JsonValue; warnings: string } {
  let warnings = "";
  const data = [...model.storages]
    .sort((a, b) => hash32(a.name) - hash32(b.name))
    .map((s) => {
      const online = s.enabled && s.active;
      if (s.enabled && !s.active) {
        warnings += `storage '${s.name}' is not online\n`;
      }
      const total = online ? Math.round(s.total_gib * GIB) : 0;
      const used = online ? Math.round(s.used_gib * GIB) : 0;
      return {
        storage: s.name,
        type: s.type,
        content: s.content,
        shared: s.shared ? 1 : 0,
        enabled: s.enabled ? 1 : 0,
        active: online ? 1 : 0,
        total,
        used,
        avail: total - used,
        // PVE only computes the fraction when total is non-zero
        used_fraction: total > 0 ? used / total : undefined,
      };
    });
  return { data, warnings };
}

// ---- cluster resources -----------------------------------------------------

/**
 * `/cluster/resources` of a one-node cluster, as pve-manager builds it
 * (API2/Cluster.pm, API2Tools.pm): guests from pvestatd's cache with
 * `maxcpu`, `template` 0/1 and the config's `tags`/`lock`; the node; and
 * each storage enabled on it with `disk`/`maxdisk` (`status` `available`,
 * or `unknown` without figures when it is not online).
 */
function clusterResources(model: NodeModel, now: number): JsonValue {
  const node = model.node;
  const guests: JsonValue[] = [
    ...guestsOf(model, "qemu"),
    ...guestsOf(model, "lxc"),
  ]
    .sort((a, b) => a.vmid - b.vmid)
    .map((g) => {
      const r = runtime(g, now);
      const lxc = g.type === "lxc";
      const up = isUp(g);
      const maxdisk = g.diskGib * GIB;
      return {
        id: `${g.type}/${g.vmid}`,
        vmid: g.vmid,
        node,
        type: g.type,
        status: g.status,
        uptime: r.uptime,
        name: g.name,
        template: g.template ? 1 : 0,
        maxcpu: g.cores,
        cpu: r.cpu,
        maxmem: g.memoryMib * MIB,
        mem: lxc ? (up ? Math.round(r.mem * 0.6) : 0) : r.mem,
        maxdisk,
        disk: lxc && up ? Math.round(maxdisk * 0.31) : 0,
        netin: r.netin,
        netout: r.netout,
        diskread: r.diskread,
        diskwrite: r.diskwrite,
        tags: tagText(g),
      };
    });
  const storages: JsonValue[] = model.storages.filter((s) => s.enabled).map(
    (s) => {
      const online = s.active;
      return {
        id: `storage/${node}/${s.name}`,
        storage: s.name,
        node,
        type: "storage",
        plugintype: s.type,
        status: online ? "available" : "unknown",
        shared: s.shared ? 1 : 0,
        content: s.content,
        maxdisk: online ? Math.round(s.total_gib * GIB) : undefined,
        disk: online ? Math.round(s.used_gib * GIB) : undefined,
      };
    },
  );
  return [
    ...guests,
    {
      id: `node/${node}`,
      node,
      type: "node",
      status: "online",
      maxcpu: model.host.cpus,
      uptime: Math.floor(now - model.bootUnix),
    },
    ...storages,
  ];
}

// ---- runtime status --------------------------------------------------------

interface Runtime {
  uptime: number;
  cpu: number;
  mem: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
}

function runtime(g: GuestModel, now: number): Runtime {
  if (!isUp(g)) {
    return {
      uptime: 0,
      cpu: 0,
      mem: 0,
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
    };
  }
  const uptime = Math.max(0, Math.floor(now - g.startedAt));
  const seed = `${g.type}${g.vmid}`;
  const maxmem = g.memoryMib * MIB;
  const busy = g.cpuBusy;
  const rate = 20_000 + (hash32(seed) % 2_000_000);
  return {
    uptime,
    cpu: Math.max(0, Math.min(1, level(`${seed}:cpu`, busy, busy * 0.8, now))),
    mem: Math.round(maxmem * level(`${seed}:mem`, 0.45, 0.12, now)),
    netin: Math.round(counter(`${seed}:in`, rate, rate * 0.9, uptime)),
    netout: Math.round(counter(`${seed}:out`, rate / 3, rate / 4, uptime)),
    diskread: Math.round(counter(`${seed}:rd`, rate * 2, rate, uptime)),
    diskwrite: Math.round(counter(`${seed}:wr`, rate, rate / 2, uptime)),
  };
}

function tagText(g: GuestModel): string | undefined {
  return g.tags.length > 0 ? g.tags.join(";") : undefined;
}

function pressure(
  model: NodeModel,
  g: GuestModel,
  asString: boolean,
): JsonObject {
  if (!isPve9(model) || !isUp(g)) return {};
  const out: JsonObject = {};
  const avg10 = guestPressureAvg10(g);
  for (const kind of ["cpu", "io", "memory"]) {
    for (const which of ["some", "full"] as const) {
      const value = avg10[which];
      // LXC pressure values are raw regex captures, so they stay strings
      out[`pressure${kind}${which}`] = asString ? value.toFixed(2) : value;
    }
  }
  return out;
}

/** The fields qemu and lxc status end with: pid while up, template, tags. */
function processFields(g: GuestModel, up: boolean) {
  return {
    pid: up ? 1000 + (hash32(`pid${g.vmid}`) % 60000) : undefined,
    template: g.template ? 1 : undefined,
    tags: tagText(g),
  };
}

function qemuStatus(model: NodeModel, g: GuestModel, now: number): JsonValue {
  const r = runtime(g, now);
  const up = isUp(g);
  return {
    vmid: g.vmid,
    name: g.name,
    status: g.status,
    cpus: g.cores,
    cpu: r.cpu,
    maxmem: g.memoryMib * MIB,
    mem: r.mem,
    memhost: isPve9(model) ? Math.round(r.mem * 1.04) : undefined,
    maxdisk: g.diskGib * GIB,
    disk: 0,
    uptime: r.uptime,
    netin: r.netin,
    netout: r.netout,
    ...processFields(g, up),
    ...pressure(model, g, false),
  };
}

function lxcStatus(model: NodeModel, g: GuestModel, now: number): JsonValue {
  const r = runtime(g, now);
  const up = isUp(g);
  const maxdisk = g.diskGib * GIB;
  return {
    vmid: g.vmid,
    type: "lxc",
    name: g.name,
    status: g.status,
    cpus: g.cores,
    cpu: r.cpu,
    maxmem: g.memoryMib * MIB,
    mem: up ? Math.round(r.mem * 0.6) : 0,
    maxswap: 512 * MIB,
    swap: 0,
    maxdisk,
    disk: up ? Math.round(maxdisk * 0.31) : 0,
    uptime: r.uptime,
    netin: r.netin,
    netout: r.netout,
    diskread: r.diskread,
    diskwrite: r.diskwrite,
    ...processFields(g, up),
    ...pressure(model, g, true),
  };
}

// ---- config ----------------------------------------------------------------

function hexDigest(seed: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) {
    out += hash32(`${seed}:${i}`).toString(16).padStart(8, "0");
  }
  return out.slice(0, length);
}

function uuid(seed: string): string {
  const h = hexDigest(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${
    h.slice(17, 20)
  }-${h.slice(20)}`;
}

/** The first host address of an IPv4 network: where the gateway usually sits. */
function gateway(cidr: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const addr = m.slice(1, 5).reduce((acc, part) => acc * 256 + Number(part), 0);
  const block = 2 ** (32 - Number(m[5]));
  const gw = Math.floor(addr / block) * block + 1;
  return [24, 16, 8, 0].map((s) => Math.floor(gw / 2 ** s) % 256).join(".");
}

function diskVolume(g: GuestModel): string {
  // on ZFS the volume name is the dataset's last part; LVM-thin names every disk vm-/base-
  if (g.disk) {
    return `${g.disk.storage}:${
      g.disk.dataset.slice(g.disk.dataset.lastIndexOf("/") + 1)
    }`;
  }
  return `local-lvm:${g.template ? "base" : "vm"}-${g.vmid}-disk-0`;
}

export function qemuConfig(model: NodeModel, g: GuestModel): JsonObject {
  const config: JsonObject = {
    name: g.name,
    cores: g.cores,
    sockets: 1,
    // a property string since PVE 8.1, so pvesh prints it as a string
    memory: String(g.memoryMib),
    cpu: "x86-64-v2-AES",
    ostype: "l26",
    boot: "order=scsi0;ide2;net0",
    scsihw: "virtio-scsi-single",
    scsi0: `${diskVolume(g)},iothread=1,size=${g.diskGib}G`,
    ide2: "none,media=cdrom",
    numa: 0,
    onboot: g.template ? undefined : 1,
    smbios1: `uuid=${uuid(`smbios${g.vmid}`)}`,
    vmgenid: uuid(`vmgenid${g.vmid}`),
    meta: `creation-qemu=${isPve9(model) ? "10.0.2" : "8.1.5"},ctime=${
      1700000000 + (hash32(`ctime${g.vmid}`) % 30000000)
    }`,
    digest: hexDigest(`digest${g.vmid}`, 40),
    tags: tagText(g),
    template: g.template ? 1 : undefined,
  };
  if (g.agent !== "none") {
    config.agent = g.vmid % 2 === 0 ? "1" : "1,fstrim_cloned_disks=1";
  }
  for (const nic of g.nics) {
    config[`net${nic.index}`] =
      `virtio=${nic.mac},bridge=${nic.bridge},firewall=1`;
    const ipconfig = qemuIpconfig(nic);
    if (ipconfig) config[`ipconfig${nic.index}`] = ipconfig;
  }
  if (g.nics.some((n) => qemuIpconfig(n))) {
    config.ide0 = `${
      g.disk?.storage ?? "local-lvm"
    }:vm-${g.vmid}-cloudinit,media=cdrom`;
  }
  return config;
}

// cloud-init settings, for NICs the profile gives addresses
function qemuIpconfig(nic: NicModel): string | undefined {
  const parts: string[] = [];
  if (nic.ipv4Config) {
    parts.push(`ip=${nic.ipv4Config}`);
    const gw = nic.ipv4Config === "dhcp" ? undefined : gateway(nic.ipv4Config);
    if (gw) parts.push(`gw=${gw}`);
  }
  if (nic.ipv6Config) parts.push(`ip6=${nic.ipv6Config}`);
  return parts.length > 0 ? parts.join(",") : undefined;
}

export function lxcConfig(g: GuestModel): JsonObject {
  const config: JsonObject = {
    arch: "amd64",
    hostname: g.name,
    cores: g.cores,
    memory: g.memoryMib,
    swap: 512,
    ostype: "debian",
    rootfs: `${diskVolume(g)},size=${g.diskGib}G`,
    features: "nesting=1",
    unprivileged: 1,
    onboot: g.template ? undefined : 1,
    digest: hexDigest(`digest${g.vmid}`, 40),
    tags: tagText(g),
    template: g.template ? 1 : undefined,
  };
  for (const nic of g.nics) {
    const parts = [
      `name=eth${nic.index}`,
      `bridge=${nic.bridge}`,
      "firewall=1",
    ];
    const gw = nic.ipv4Config && nic.ipv4Config !== "dhcp"
      ? gateway(nic.ipv4Config)
      : undefined;
    if (gw) parts.push(`gw=${gw}`);
    parts.push(`hwaddr=${nic.mac}`);
    if (nic.ipv4Config) parts.push(`ip=${nic.ipv4Config}`);
    if (nic.ipv6Config) parts.push(`ip6=${nic.ipv6Config}`);
    parts.push("type=veth");
    config[`net${nic.index}`] = parts.join(",");
  }
  return config;
}

// ---- addresses -------------------------------------------------------------

function splitCidr(cidr: string): [string, number] {
  const [addr, prefix] = cidr.split("/");
  return [addr, Number(prefix)];
}

function qemuAgentInterfaces(g: GuestModel, now: number): Answer {
  if (g.agent === "none") return { error: "No QEMU guest agent configured\n" };
  if (!isUp(g)) return { error: `VM ${g.vmid} is not running\n` };
  if (g.agent === "not_running") {
    return { error: "QEMU guest agent is not running\n" };
  }
  const uptime = Math.max(0, now - g.startedAt);
  const stats = (seed: string, rate: number) => {
    const rx = Math.round(counter(`${seed}:rx`, rate, rate / 2, uptime));
    const tx = Math.round(counter(`${seed}:tx`, rate / 3, rate / 6, uptime));
    return {
      "rx-bytes": rx,
      "rx-dropped": 0,
      "rx-errs": 0,
      "rx-packets": Math.round(rx / 900),
      "tx-bytes": tx,
      "tx-dropped": 0,
      "tx-errs": 0,
      "tx-packets": Math.round(tx / 700),
    };
  };
  const address = (cidr: string, type: "ipv4" | "ipv6") => {
    const [addr, prefix] = splitCidr(cidr);
    return { "ip-address": addr, "ip-address-type": type, prefix };
  };
  const result: JsonValue[] = [{
    name: "lo",
    "hardware-address": "00:00:00:00:00:00",
    "ip-addresses": [
      address("127.0.0.1/8", "ipv4"),
      address("::1/128", "ipv6"),
    ],
    statistics: stats(`${g.vmid}:lo`, 2000),
  }];
  for (const nic of g.nics) {
    const addrs: JsonValue[] = [];
    if (nic.ipv4) addrs.push(address(nic.ipv4, "ipv4"));
    if (nic.ipv6) addrs.push(address(nic.ipv6, "ipv6"));
    addrs.push(address(nic.linkLocal, "ipv6"));
    result.push({
      name: `ens${18 + nic.index}`,
      "hardware-address": nic.mac.toLowerCase(),
      "ip-addresses": addrs,
      statistics: stats(`${g.vmid}:${nic.index}`, 50_000),
    });
  }
  return { data: { result } };
}

/** The guest agent's file systems: a root on the VM's disk, and a snap loop. */
function qemuAgentFsinfo(g: GuestModel): Answer {
  if (g.agent === "none") return { error: "No QEMU guest agent configured\n" };
  if (!isUp(g)) return { error: `VM ${g.vmid} is not running\n` };
  if (g.agent === "not_running") {
    return { error: "QEMU guest agent is not running\n" };
  }
  const total = Math.round(g.diskGib * GIB * 0.97);
  const used = Math.round(total * (0.2 + (hash32(`fs${g.vmid}`) % 60) / 100));
  const disk = [{
    bus: 0,
    "bus-type": "scsi",
    dev: "/dev/sda1",
    "pci-controller": { bus: 1, domain: 0, function: 0, slot: 1 },
    serial: "0QEMU_QEMU_HARDDISK_drive-scsi0",
    target: 0,
    unit: 0,
  }];
  return {
    data: {
      result: [
        {
          disk,
          mountpoint: "/",
          name: "sda1",
          "total-bytes": total,
          type: "ext4",
          "used-bytes": used,
        },
        {
          disk: [],
          mountpoint: "/snap/core22/1380",
          name: "loop0",
          "total-bytes": 77332480,
          type: "squashfs",
          "used-bytes": 77332480,
        },
      ],
    },
  };
}

/**
 * pve-container keeps one address per family and interface, the last one
 * `ip --json addr` lists; the kernel lists global IPv6 before link-local,
 * so a NIC's `inet6` is its link-local address.
 */
function lxcInterfaces(g: GuestModel): JsonValue {
  if (!isUp(g)) return null;
  const out: JsonValue[] = [{
    name: "lo",
    hwaddr: "00:00:00:00:00:00",
    inet: "127.0.0.1/8",
    inet6: "::1/128",
  }];
  for (const nic of g.nics) {
    out.push({
      name: `eth${nic.index}`,
      hwaddr: nic.mac.toLowerCase(),
      inet: nic.ipv4,
      inet6: nic.linkLocal,
    });
  }
  return out;
}

function sortDeep(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (item !== undefined) out[key] = sortDeep(item);
  }
  return out;
}
