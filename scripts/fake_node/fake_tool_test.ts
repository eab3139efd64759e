/**
 * Runs the fake PVE tools as real executables (bin/*) and checks that what
 * they print has the real tools' shape, on a ZFS 2.3 and a ZFS 2.2 node.
 */
import assert from "node:assert/strict";
import { PROFILE_ENV } from "./fake_tool.ts";
// the agent's own command lines, as it runs them on a node
import * as commands from "../../agent/collectors/commands.ts";
import { tempDir } from "@proxmon/shared/temp_dir";
import { runTool } from "./tool_run.ts";
import { profilePath } from "./node_profile.ts";

const ZFS23 = profilePath("degraded_zfs23");
const ZFS22 = profilePath("zfs22");

const run = (profile: string, tool: string, ...args: string[]) =>
  runTool(tool, args, { [PROFILE_ENV]: profile });
/** Runs a command line as the agent itself builds it. */
const runCommand = (profile: string, c: commands.Command) =>
  run(profile, c.cmd, ...c.args);

type Json = Record<string, unknown>;
const obj = (v: unknown) => v as Json;

Deno.test("zpool list -j --json-int prints the OpenZFS envelope with properties.X.value", async () => {
  const r = await runCommand(ZFS23, commands.ZPOOL_LIST_JSON);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n").length, 2, "one compact line");
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.output_version, {
    command: "zpool list",
    vers_major: 0,
    vers_minor: 1,
  });
  const tank = doc.pools.tank;
  assert.equal(tank.type, "POOL");
  assert.equal(tank.properties.health.value, "DEGRADED");
  assert.equal(typeof tank.properties.size.value, "number");
  assert.equal(
    tank.properties.dedupratio.value,
    "1.00",
    "non-digit values stay strings",
  );
  assert.deepEqual(Object.keys(doc.pools), ["rpool", "tank", "backup"]);
  // GUIDs are unsigned 64-bit and printed exactly, beyond what a double holds
  assert.match(r.stdout, /"pool_guid":\d{16,20},/);
});

Deno.test("zpool status -j --json-flat-vdevs lists a degraded leaf flat and nested, with checksum errors", async () => {
  const r = await runCommand(ZFS23, commands.ZPOOL_STATUS_JSON);
  assert.equal(r.code, 0, r.stderr);
  const tank = JSON.parse(r.stdout).pools.tank;
  assert.equal(tank.state, "DEGRADED");
  assert.equal(tank.msgid, "ZFS-8000-9P");
  assert.equal(tank.scan_stats.function, "SCRUB");
  assert.equal(tank.scan_stats.state, "FINISHED");
  const bad = "ata-WDC_WD80EFZZ-68BTXN0_WD-CA1L07QZ";
  const flat = tank.vdevs[bad];
  assert.equal(flat.state, "DEGRADED");
  assert.equal(flat.checksum_errors, 37);
  assert.equal(flat.aux, "ERR_EXCEEDED");
  assert.equal(flat.parent, "mirror-0");
  // --json-flat-vdevs still nests: the same leaf is inside mirror-0 and the root
  assert.deepEqual(tank.vdevs["mirror-0"].vdevs[bad], flat);
  assert.deepEqual(tank.vdevs.tank.vdevs["mirror-0"].vdevs[bad], flat);
  const backup = JSON.parse(r.stdout).pools.backup;
  assert.equal(backup.scan_stats.state, "SCANNING");
  assert.equal(backup.scan_stats.end_time, 0);
});

Deno.test("zfs list -j --json-int -t all lists volumes and snapshots with creation as a number", async () => {
  // the agent's own command line, so the fake answers what the agent asks
  const r = await runCommand(ZFS23, commands.ZFS_LIST_JSON);
  assert.equal(r.code, 0, r.stderr);
  const datasets = obj(JSON.parse(r.stdout).datasets);
  const vol = obj(datasets["rpool/data/vm-100-disk-0"]);
  assert.equal(vol.type, "VOLUME");
  assert.equal(typeof obj(obj(vol.properties).creation).value, "number");
  const snaps = Object.values(datasets).map(obj).filter((d) =>
    d.type === "SNAPSHOT"
  );
  assert.ok(snaps.length > 0);
  assert.equal(obj(obj(snaps[0].properties).available).value, "-");
  assert.equal(typeof snaps[0].snapshot_name, "string");
});

Deno.test("ZFS 2.2 has no -j: invalid option 'j', usage on stderr, exit 2", async (t) => {
  for (
    const args of [
      ["zpool", "list", "-j", "--json-int"],
      ["zpool", "status", "-j", "--json-flat-vdevs", "--json-int"],
      ["zfs", "list", "-j", "--json-int", "-t", "all"],
    ]
  ) {
    await t.step(args.join(" "), async () => {
      const r = await run(ZFS22, args[0], ...args.slice(1));
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^invalid option 'j'\nusage:\n\t/);
    });
  }
});

Deno.test("ZFS 2.2 text: zpool list -Hp is tab-separated numbers, zpool status -p has the config table", async () => {
  const list = await runCommand(ZFS22, commands.ZPOOL_LIST_TEXT);
  assert.equal(list.code, 0, list.stderr);
  const rows = list.stdout.trimEnd().split("\n").map((l) => l.split("\t"));
  assert.deepEqual(rows.map((r) => [r[0], r[6]]), [["rpool", "ONLINE"], [
    "tank",
    "DEGRADED",
  ]]);
  for (const row of rows) {
    assert.ok(row.slice(1, 6).every((c) => /^\d+$/.test(c)), row.join("|"));
  }

  const status = await runCommand(ZFS22, commands.ZPOOL_STATUS_TEXT);
  assert.equal(status.code, 0, status.stderr);
  assert.match(
    status.stdout,
    /^ {2}pool: rpool\n state: ONLINE\n {2}scan: scrub in progress since /,
  );
  assert.match(
    status.stdout,
    /\n\tNAME +STATE +READ WRITE CKSUM\n\ttank +DEGRADED/,
  );
  assert.match(
    status.stdout,
    /\n\t {4}ata-ST8000VN004-2M2101_WSD1A2C7 +DEGRADED +0 +0 +12 {2}too many errors\n/,
  );
  assert.match(status.stdout, /errors: No known data errors\n$/);

  // the agent's own command line for ZFS before 2.3
  const zfs = await runCommand(ZFS22, commands.ZFS_LIST_TEXT);
  assert.equal(zfs.code, 0, zfs.stderr);
  const snap = zfs.stdout.split("\n").find((l) => l.includes("@"));
  assert.match(snap ?? "", /^[^\t]+@[^\t]+\tsnapshot\t\d+\t-\t-\t\d+$/);
});

Deno.test("pvesh prints one line of JSON with sorted keys, and fails like PVE for missing agents", async () => {
  const list = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/pve-lab/qemu"),
  );
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout.split("\n").length, 2);
  const vms = JSON.parse(list.stdout) as Json[];
  for (const vm of vms) {
    assert.deepEqual(Object.keys(vm), Object.keys(vm).sort());
    assert.equal(typeof vm.vmid, "number");
  }
  assert.equal(vms.find((vm) => vm.vmid === 9000)?.template, 1);

  const noAgent = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/pve-lab/qemu/102/agent/network-get-interfaces"),
  );
  assert.deepEqual([noAgent.code, noAgent.stdout, noAgent.stderr], [
    255,
    "",
    "No QEMU guest agent configured\n",
  ]);

  const storage = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/pve-lab/storage"),
  );
  const nfs = (JSON.parse(storage.stdout) as Json[]).find((s) =>
    s.storage === "nas-archive"
  );
  assert.deepEqual(
    nfs && [nfs.type, nfs.active, nfs.total, "used_fraction" in nfs],
    ["nfs", 0, 0, false],
  );
  assert.equal(storage.stderr, "storage 'nas-archive' is not online\n");

  const other = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/elsewhere/qemu"),
  );
  assert.equal(other.code, 255);
  assert.match(other.stderr, /hostname lookup 'elsewhere' failed/);
});

Deno.test("pvesh guest agent and LXC interfaces carry the guest's addresses", async () => {
  const agent = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/pve-lab/qemu/100/agent/network-get-interfaces"),
  );
  assert.equal(agent.code, 0, agent.stderr);
  const ifaces = JSON.parse(agent.stdout).result as Json[];
  const addrs = ifaces.flatMap((i) =>
    (i["ip-addresses"] as Json[]).map((a) => a["ip-address"])
  );
  assert.ok(
    addrs.includes("192.168.10.50") && addrs.includes("fd00:10::50"),
    addrs.join(","),
  );

  const ct = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/pve-lab/lxc/101/interfaces"),
  );
  const nics = JSON.parse(ct.stdout) as Json[];
  assert.deepEqual(nics.map((n) => [n.name, n.inet]), [
    ["lo", "127.0.0.1/8"],
    ["eth0", "192.168.10.53/24"],
    ["eth1", "10.99.0.23/24"],
  ]);
  const config = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/pve-lab/lxc/101/config"),
  );
  assert.match(
    JSON.parse(config.stdout).net0,
    /ip=192\.168\.10\.53\/24,ip6=fd00:10::53\/64,type=veth$/,
  );
});

Deno.test("pveversion, zfs --version and apt list --upgradable print the real formats", async () => {
  const pve = await run(ZFS22, "pveversion");
  assert.equal(
    pve.stdout,
    "pve-manager/8.2.4/faa83925c9641325 (running kernel: 6.8.12-1-pve)\n",
  );
  const zfs = await run(ZFS22, "zfs", "--version");
  assert.equal(zfs.stdout, "zfs-2.2.6-pve1\nzfs-kmod-2.2.6-pve1\n");
  const apt = await run(ZFS22, "apt", "list", "--upgradable");
  assert.equal(apt.code, 0);
  const lines = apt.stdout.trimEnd().split("\n");
  assert.equal(lines[0], "Listing...");
  assert.equal(lines.length, 4);
  assert.match(
    lines[1],
    /^libc6\/bookworm-security \S+ amd64 \[upgradable from: \S+\]$/,
  );
  assert.match(apt.stderr, /WARNING: apt does not have a stable CLI interface/);
});

Deno.test("an unknown command line fails with an error and a non-zero exit", async () => {
  const zpool = await run(ZFS23, "zpool", "frobnicate");
  assert.equal(zpool.code, 2);
  assert.match(zpool.stderr, /unrecognized command 'frobnicate'/);
  const pvesh = await runCommand(
    ZFS23,
    commands.pveshGet("/nodes/pve-lab/qemu/100/rrd"),
  );
  assert.equal(pvesh.code, 255);
  const apt = await run(ZFS23, "apt", "upgrade", "-y");
  assert.equal(apt.code, 100);
});

Deno.test("pvesh get /cluster/resources tells the agent what the per-node lists do", async () => {
  const { clusterResourcesOf, parseLxcList, parseQemuList, parseStorage } =
    await import("../../agent/collectors/mod.ts");
  const node = "pve-lab";
  const get = async (path: string) => {
    const r = await runCommand(ZFS23, commands.pveshGet(path));
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const resources = JSON.parse(await get("/cluster/resources"));
  assert.ok(resources.some((e: Json) => e.type === "node"));
  const fromCluster = clusterResourcesOf(resources, node);
  const lists = [
    ...parseQemuList(await get(`/nodes/${node}/qemu`)).vms,
    ...parseLxcList(await get(`/nodes/${node}/lxc`)).vms,
  ].sort((a, b) => a.vmid - b.vmid);
  // the same guests and figures; uptime and counters move between calls,
  // and only the per-node lists carry PVE 9's pressure (as the real ones)
  assert.ok(fromCluster.vms_runtime.vms.every((g) => g.psi === null));
  assert.ok(lists.some((g) => g.psi !== null));
  const steady = (g: Record<string, unknown>) => {
    const {
      psi: _p,
      uptime_seconds: _u,
      cpu_usage: _c,
      mem_bytes: _m,
      netin_bytes: _ni,
      netout_bytes: _no,
      diskread_bytes: _dr,
      diskwrite_bytes: _dw,
      disk_bytes: _d,
      ...rest
    } = g;
    return rest;
  };
  assert.deepEqual(
    fromCluster.vms_runtime.vms.map(steady),
    lists.map(steady),
  );
  const storages = parseStorage(await get(`/nodes/${node}/storage`)).storages;
  const summary = (list: typeof storages) =>
    list.map((s) => [s.name, s.active, s.total_bytes]).sort();
  assert.deepEqual(
    summary(fromCluster.storage.storages),
    summary(storages.filter((s) => s.enabled)),
  );
});

Deno.test("the simulated pmxcfs holds each guest's pvesh config as a file, with snapshots after it", async () => {
  const { parseGuestConfigFile } = await import(
    "../../agent/collectors/mod.ts"
  );
  const { writePmxcfs } = await import("./pmxcfs.ts");
  const { buildNodeModel } = await import("./node_model.ts");
  const { loadNodeProfile } = await import("./node_profile.ts");
  const model = buildNodeModel(await loadNodeProfile(ZFS23));
  await using scratch = await tempDir("proxmon-pmxcfs-");
  const tmp = scratch.path;
  await writePmxcfs(tmp, model);
  let snapshots = 0;
  for (const g of model.guests) {
    const dirName = g.type === "qemu" ? "qemu-server" : "lxc";
    const text = await Deno.readTextFile(
      `${tmp}/nodes/${model.node}/${dirName}/${g.vmid}.conf`,
    );
    if (text.includes("\n[before-upgrade]\n")) snapshots++;
    const { config, errors } = parseGuestConfigFile(text, `${g.vmid}.conf`);
    assert.deepEqual(errors, []);
    const r = await runCommand(
      ZFS23,
      commands.pveshGet(`/nodes/${model.node}/${g.type}/${g.vmid}/config`),
    );
    const viaPvesh = JSON.parse(r.stdout) as Json;
    for (const [key, value] of Object.entries(viaPvesh)) {
      assert.equal(config[key], String(value), `${g.vmid}.${key}`);
    }
    assert.equal(config.cipassword, undefined);
  }
  assert.ok(snapshots > 0, "some guests have a snapshot section");
});
