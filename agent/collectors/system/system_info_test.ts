import assert from "node:assert/strict";
import { type FakeAnswer, fakeRunner } from "../../testing/fake_runner.ts";
import {
  APT_UPGRADABLE,
  lineOf,
  PVEVERSION,
  ZFS_VERSION,
} from "../commands.ts";
import { readFixture } from "../../testing/fixtures.ts";
import {
  collectSystemInfo,
  parseAptUpgradable,
  parsePveversion,
  parseZfsVersion,
} from "./system_info.ts";

const system = (name: string) => readFixture(`system/${name}`);

async function collect(answers: Record<string, FakeAnswer>) {
  return await collectSystemInfo({
    runner: fakeRunner(answers),
    timeoutMs: 1000,
  }, "0.1.0");
}

Deno.test("collectSystemInfo() collects pveversion, zfs version and pending upgrade count (seed values)", async () => {
  const sample = await collect({
    [lineOf(PVEVERSION)]: system("pveversion__8.3.1_seed.txt"),
    [lineOf(ZFS_VERSION)]: system("zfs_version__2.3.0_seed.txt"),
    [lineOf(APT_UPGRADABLE)]: system("apt_list_upgradable__seed_2pkgs.txt"),
  });
  assert.match(sample.pve_version!, /8\.3\.1/);
  assert.equal(sample.pve_version, "8.3.1");
  assert.equal(sample.kernel, "6.8.12-1-pve");
  assert.match(sample.zfs_version!, /2\.3\.0/);
  assert.equal(sample.pending_updates, 2);
  assert.equal(sample.agent_version, "0.1.0");
  assert.deepEqual(sample.errors, []);
});

Deno.test("collectSystemInfo() returns a partial sample when one command fails (seed)", async () => {
  const sample = await collect({
    [lineOf(PVEVERSION)]: system("pveversion__8.3.1_seed.txt"),
    [lineOf(APT_UPGRADABLE)]: system("apt_list_upgradable__none.txt"),
  });
  assert.match(sample.pve_version!, /8\.3\.1/);
  assert.equal(sample.zfs_version, null);
  assert.equal(sample.pending_updates, 0);
  assert.equal(sample.errors.length, 1);
  assert.equal(sample.errors[0].tag, "zfs_version");
});

Deno.test("collectSystemInfo() parses apt's stdout only and ignores its CLI warning on stderr", async () => {
  const sample = await collect({
    [lineOf(PVEVERSION)]: system("pveversion__9.1.6_kernel6.17.txt"),
    [lineOf(ZFS_VERSION)]: system("zfs_version__ubuntu_zfs2.4.1.txt"),
    [lineOf(APT_UPGRADABLE)]: {
      stdout: system("apt_list_upgradable__debian9_tty_3pkgs.txt"),
      stderr:
        "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n",
    },
  });
  assert.equal(sample.pending_updates, 3);
  assert.deepEqual(sample.errors, []);
});

Deno.test("collectSystemInfo() reports an apt that times out as unknown, not as zero updates", async () => {
  const sample = await collect({
    [lineOf(PVEVERSION)]: system("pveversion__9.1.6_kernel6.17.txt"),
    [lineOf(ZFS_VERSION)]: system("zfs_version__ubuntu_zfs2.4.1.txt"),
    [lineOf(APT_UPGRADABLE)]: {
      error: { kind: "timeout", timeoutMs: 1000, message: "killed" },
    },
  });
  assert.equal(sample.pending_updates, null);
  assert.equal(sample.pve_version, "9.1.6");
  assert.deepEqual(sample.errors.map((e) => e.tag), ["apt"]);
});

Deno.test("parsePveversion() reads each release's format", async (t) => {
  const cases: [string, string | null, string | null][] = [
    ["pveversion__7.4-17_kernel5.15.txt", "7.4-17", "5.15.143-1-pve"],
    ["pveversion__8.0.3_kernel6.2.txt", "8.0.3", "6.2.16-3-pve"],
    ["pveversion__9.1.6_kernel6.17.txt", "9.1.6", "6.17.13-2-pve"],
    // -v output filtered to kernel lines: no pve-manager line, proxmox-ve instead
    [
      "pveversion_-v_grep_kernel__9.1_duplicate_helper_line.txt",
      "9.1.0",
      "6.17.13-4-pve",
    ],
  ];
  for (const [file, version, kernel] of cases) {
    await t.step(
      file,
      () =>
        assert.deepEqual(parsePveversion(system(file)), {
          pve_version: version,
          kernel,
        }),
    );
  }
  await t.step(
    "unrelated text",
    () =>
      assert.deepEqual(
        parsePveversion("bash: pveversion: command not found\n"),
        {
          pve_version: null,
          kernel: null,
        },
      ),
  );
});

Deno.test("parseZfsVersion() reports the userland version and keeps the kernel module's", async (t) => {
  await t.step(
    "PVE 7.1 after an upgrade without reboot: userland 2.1.2, module 2.0.6",
    () =>
      assert.deepEqual(
        parseZfsVersion(
          system("zfs_version__pve7.1_userland_kmod_MISMATCH.txt"),
        ),
        {
          zfs_version: "2.1.2-pve1",
          zfs_kmod_version: "2.0.6-pve1",
        },
      ),
  );
  const cases = [
    ["Ubuntu 2.4.1", "zfs_version__ubuntu_zfs2.4.1.txt", "2.4.1-1ubuntu5.1"],
    ["PVE 8.4 2.2.7", "zfs_version__2.2.7_pve8.4.txt", "2.2.7-pve2"],
  ];
  for (const [name, file, version] of cases) {
    await t.step(
      name,
      () => assert.equal(parseZfsVersion(system(file)).zfs_version, version),
    );
  }
});

Deno.test("parseAptUpgradable() counts package lines, not the Listing... line", () => {
  assert.equal(
    parseAptUpgradable(system("apt_list_upgradable__debian9_tty_3pkgs.txt")),
    3,
  );
  assert.equal(
    parseAptUpgradable(system("apt_list_upgradable__seed_2pkgs.txt")),
    2,
  );
  assert.equal(parseAptUpgradable(system("apt_list_upgradable__none.txt")), 0);
});

Deno.test("collectSystemInfo() reports output it cannot read", async () => {
  const sample = await collect({
    [lineOf(PVEVERSION)]: "Segmentation fault\n",
    [lineOf(ZFS_VERSION)]: "\n",
    [lineOf(APT_UPGRADABLE)]: "",
  });
  assert.equal(sample.pve_version, null);
  assert.equal(sample.zfs_version, null);
  assert.equal(sample.pending_updates, 0);
  assert.deepEqual(sample.errors.map((e) => e.tag), [
    "pveversion",
    "zfs_version",
  ]);
});
