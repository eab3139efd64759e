import assert from "node:assert/strict";
import type { Outcome } from "../exec.ts";
import { fixturePath, NODE_EXPORTER_DISKS } from "../../testing/fixtures.ts";
import { createHostCollector } from "./host.ts";
import type { RootFs } from "./proc_parsers.ts";
import { readTextFileResult } from "./proc_reader.ts";
import { rootFsFromStatfs, statfsRootFs } from "./root_fs.ts";

const ROOT: Outcome<RootFs> = {
  ok: true,
  value: { size_bytes: 1000, used_bytes: 400 },
};
const rootFs = () => Promise.resolve(ROOT);

/** A collector whose /proc is whichever fixture directory `dir.current` names. */
function switchableProc() {
  const dir = { current: "proc/pve_t0" };
  const collector = createHostCollector({
    procDir: "/proc",
    rootFs,
    readFile: (path) =>
      readTextFileResult(path.replace(/^\/proc/, fixturePath(dir.current))),
  });
  return { dir, collector };
}

Deno.test("createHostCollector() reports instant values and null rates on the first reading", async () => {
  const { collector } = switchableProc();
  const host = await collector.collect(1_000_000);
  assert.equal(host.cpu_percent, null);
  assert.equal(host.load1, 1.5);
  assert.equal(host.load15, 0.75);
  assert.equal(host.mem_total_bytes, 65536000 * 1024);
  assert.equal(host.uptime_seconds, 123456.78);
  assert.deepEqual(host.root_fs, { size_bytes: 1000, used_bytes: 400 });
  assert.ok(
    host.net.length > 0 && host.net.every((n) => n.rx_bytes_per_s === null),
  );
  assert.ok(host.disks.every((d) => d.read_bytes_per_s === null));
  assert.deepEqual(host.errors, []);
});

Deno.test("createHostCollector() computes cpu_percent and per-device rates over the time passed in", async () => {
  const { dir, collector } = switchableProc();
  await collector.collect(1_000_000);
  dir.current = "proc/pve_t1";
  const host = await collector.collect(1_010_000);

  // 2000 jiffies passed, 1500 of them idle or iowait.
  assert.equal(host.cpu_percent, 25);
  assert.deepEqual(host.net, [
    { iface: "enp3s0", rx_bytes_per_s: 50000, tx_bytes_per_s: 10000 },
    { iface: "vmbr0", rx_bytes_per_s: 25000, tx_bytes_per_s: 10000 },
    { iface: "tap100i0", rx_bytes_per_s: 1000, tx_bytes_per_s: 50 },
    // rx went backwards (interface re-created): no rate rather than a negative one
    { iface: "fwbr100i0", rx_bytes_per_s: null, tx_bytes_per_s: 0 },
    // appeared since the last reading
    { iface: "veth201i0", rx_bytes_per_s: null, tx_bytes_per_s: null },
  ]);
  assert.deepEqual(host.disks, [
    { device: "sda", read_bytes_per_s: 102400, write_bytes_per_s: 20480 },
    { device: "nvme0n1", read_bytes_per_s: 10240, write_bytes_per_s: 512000 },
  ]);
  assert.deepEqual(host.errors, []);
});

Deno.test("createHostCollector() divides by the elapsed time it is given, not by a clock", async () => {
  const { dir, collector } = switchableProc();
  await collector.collect(5_000);
  dir.current = "proc/pve_t1";
  const host = await collector.collect(25_000); // 20 s instead of 10 s
  assert.equal(
    host.net.find((n) => n.iface === "vmbr0")?.rx_bytes_per_s,
    12500,
  );
  assert.equal(host.disks[0].read_bytes_per_s, 51200);
});

Deno.test("createHostCollector() keeps separate state per collector object", async () => {
  const a = switchableProc();
  const b = switchableProc();
  await a.collector.collect(0);
  a.dir.current = "proc/pve_t1";
  b.dir.current = "proc/pve_t1";
  assert.equal((await a.collector.collect(10_000)).cpu_percent, 25);
  assert.equal((await b.collector.collect(10_000)).cpu_percent, null);
});

Deno.test("createHostCollector() turns a missing /proc file into an error entry and reports the rest", async () => {
  // The node_exporter fixtures have no uptime file; their meminfo has no MemAvailable.
  const collector = createHostCollector({
    procDir: fixturePath("proc/node_exporter"),
    rootFs,
  });
  const host = await collector.collect(0);
  assert.equal(host.uptime_seconds, null);
  assert.deepEqual(host.errors.map((e) => e.tag), ["proc_uptime"]);
  assert.match(host.errors[0].message, /uptime/);
  assert.equal(host.mem_available_bytes, (225472 + 22040 + 930888) * 1024);
  assert.equal(host.load5, 0.37);
  assert.deepEqual(host.disks.map((d) => d.device), NODE_EXPORTER_DISKS);
});

Deno.test("createHostCollector() reports an unreadable file format and a failed root fs probe as errors", async () => {
  const collector = createHostCollector({
    procDir: "/proc",
    rootFs: () =>
      Promise.resolve({
        ok: false,
        error: { tag: "root_fs", message: "df: timed out" },
      }),
    readFile: (path) =>
      Promise.resolve(
        path.endsWith("/loadavg")
          ? { ok: true, text: "garbage\n" }
          : readTextFileResult(
            path.replace(/^\/proc/, fixturePath("proc/pve_t0")),
          ),
      ),
  });
  const host = await collector.collect(0);
  assert.equal(host.load1, null);
  assert.equal(host.root_fs, null);
  assert.deepEqual(host.errors.map((e) => e.tag).sort(), [
    "proc_loadavg",
    "root_fs",
  ]);
  assert.equal(host.mem_total_bytes, 65536000 * 1024);
});

Deno.test("statfsRootFs() reads the real root filesystem the way df counts it", async () => {
  const out = await statfsRootFs()();
  assert.ok(out.ok, !out.ok ? out.error.message : "");
  const { size_bytes, used_bytes } = out.value;
  assert.ok(size_bytes > 0 && used_bytes > 0 && used_bytes <= size_bytes);
  // df's 1-byte blocks, read a moment later: the same to within 1 %.
  const df = await new Deno.Command("df", {
    args: ["-B1", "--output=size,used", "/"],
    stdout: "piped",
  }).output();
  const [size, used] = new TextDecoder().decode(df.stdout).trim().split("\n")[1]
    .trim().split(/\s+/).map(Number);
  assert.equal(size_bytes, size);
  assert.ok(
    Math.abs(used_bytes - used) / used < 0.01,
    `${used_bytes} vs ${used}`,
  );
});

Deno.test("statfsRootFs() turns a failing statfs into a root_fs error entry", async () => {
  const out = await statfsRootFs(undefined, "/no/such/dir")();
  assert.equal(out.ok, false);
  assert.equal(!out.ok && out.error.tag, "root_fs");
  assert.match(!out.ok ? out.error.message : "", /^statfs \/no\/such\/dir: /);
  assert.deepEqual(
    rootFsFromStatfs({ blocks: 1000, bfree: 250, bsize: 4096 }),
    { size_bytes: 4096000, used_bytes: 3072000 },
  );
});

Deno.test("createHostCollector() reports an unreadable /proc file in errors every time and warns once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-proc-" });
  try {
    const from = fixturePath("proc/pve_t0");
    await Deno.mkdir(`${dir}/net`);
    for (
      const name of ["loadavg", "meminfo", "uptime", "net/dev", "diskstats"]
    ) {
      await Deno.copyFile(`${from}/${name}`, `${dir}/${name}`);
    }
    const warnings: string[] = [];
    const collector = createHostCollector({
      procDir: dir,
      rootFs,
      warn: (message) => warnings.push(message),
    });
    for (const nowMs of [0, 10_000, 20_000]) {
      const host = await collector.collect(nowMs);
      assert.deepEqual(host.errors.map((e) => e.tag), ["proc_stat"]);
      assert.equal(host.cpu_percent, null);
      assert.equal(host.load1, 1.5, "the other files are still read");
    }
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.ok(
      warnings[0].startsWith(`cannot read ${dir}/stat: `),
      warnings[0],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createHostCollector() reports the ARC and PSI where the kernel has them, and null without an error where not", async () => {
  const pressure: Record<string, string> = {
    "/proc/pressure/cpu": "proc/pressure/procfs/cpu",
    "/proc/pressure/memory": "proc/pressure/procfs/memory",
    "/proc/pressure/io": "proc/pressure/node_exporter/io",
    "/proc/spl/kstat/zfs/arcstats": "proc/node_exporter/spl/kstat/zfs/arcstats",
  };
  const withBoth = createHostCollector({
    procDir: "/proc",
    rootFs,
    readFile: (path) =>
      readTextFileResult(
        pressure[path]
          ? fixturePath(pressure[path])
          : path.replace(/^\/proc/, fixturePath("proc/pve_t0")),
      ),
  });
  const host = await withBoth.collect(0);
  assert.deepEqual(host.errors, []);
  assert.equal(host.arc?.size_bytes, 1603939792);
  assert.equal(host.arc?.c_max_bytes, 8367976448);
  assert.deepEqual(host.psi?.cpu, {
    some_avg10: 0.1,
    some_avg60: 2,
    full_avg10: null,
    full_avg60: null,
  });
  assert.equal(host.psi?.io?.full_avg60, 0.34);

  // pve_t0 has neither: no ZFS module, no PSI; that is no error
  const { collector } = switchableProc();
  const plain = await collector.collect(0);
  assert.equal(plain.arc, null);
  assert.equal(plain.psi, null);
  assert.deepEqual(plain.errors, []);
});
