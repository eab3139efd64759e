/**
 * Test helper: a fake runner table answering every command line of a PVE 9
 * node named `pve-01` from the fixtures (ZFS in its 2.3+ JSON form), and the
 * ZFS answers of a 2.2 node that refuses `-j`.
 */
import type { FakeAnswer } from "./fake_runner.ts";
import {
  APT_UPGRADABLE,
  guestConfig,
  guestList,
  lineOf,
  lxcInterfaces,
  pveshGet,
  PVEVERSION,
  qemuAgentInterfaces,
  storageList,
  ZFS_LIST_JSON,
  ZFS_LIST_TEXT,
  ZFS_VERSION,
  ZPOOL_LIST_JSON,
  ZPOOL_LIST_TEXT,
  ZPOOL_STATUS_JSON,
  ZPOOL_STATUS_TEXT,
} from "../collectors/commands.ts";
import { readFixture } from "./fixtures.ts";
import { backupAnswers, hardwareAnswers } from "./health_answers.ts";

export const NODE = "pve-01";

/** The node's guests in the fixtures: 5 VMs and 3 containers, by vmid. */
export const NODE_VMIDS = [100, 101, 102, 103, 200, 201, 202, 9000];

const pveshFails = (stderr: string): FakeAnswer => ({
  error: {
    kind: "nonzero_exit",
    code: 255,
    stdout: "",
    stderr,
    message: "exit 255",
  },
});

/** Every command line the collectors run on the fixture node, with its answer. */
export function pveNodeAnswers(): Record<string, FakeAnswer> {
  const pvesh = (name: string) => readFixture(`pvesh/${name}`);
  const answers: Record<string, FakeAnswer> = {
    [lineOf(ZPOOL_LIST_JSON)]: readFixture("zfs/zpool_list.json"),
    [lineOf(ZPOOL_STATUS_JSON)]: readFixture("zfs/zpool_status.json"),
    [lineOf(ZFS_LIST_JSON)]: readFixture("zfs/zfs_list_pve.json"),
    [lineOf(pveshGet("/cluster/resources"))]: pvesh("cluster_resources.json"),
    [lineOf(storageList(NODE))]: pvesh("storage.json"),
    [lineOf(guestList(NODE, "qemu"))]: pvesh("qemu.json"),
    [lineOf(guestList(NODE, "lxc"))]: pvesh("lxc.json"),
    [lineOf(qemuAgentInterfaces(NODE, 100))]: pvesh(
      "qemu_100_agent_interfaces.json",
    ),
    [lineOf(qemuAgentInterfaces(NODE, 102))]: pveshFails(
      "QEMU guest agent is not running\n",
    ),
    [lineOf(pveshGet(`/nodes/${NODE}/qemu/100/agent/get-fsinfo`))]: pvesh(
      "qemu_100_agent_fsinfo.json",
    ),
    [lineOf(pveshGet(`/nodes/${NODE}/qemu/102/agent/get-fsinfo`))]: pveshFails(
      "QEMU guest agent is not running\n",
    ),
    [lineOf(lxcInterfaces(NODE, 200))]: pvesh("lxc_200_interfaces.json"),
    // An older PVE without the interfaces endpoint.
    [lineOf(lxcInterfaces(NODE, 201))]: pveshFails(
      "No 'get' handler defined for 'nodes/pve-01/lxc/201/interfaces'\n",
    ),
    [lineOf(PVEVERSION)]: readFixture(
      "system/pveversion__9.1.6_kernel6.17.txt",
    ),
    [lineOf(ZFS_VERSION)]: readFixture(
      "system/zfs_version__ubuntu_zfs2.4.1.txt",
    ),
    [lineOf(APT_UPGRADABLE)]: {
      stdout: readFixture("system/apt_list_upgradable__debian9_tty_3pkgs.txt"),
      stderr:
        "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n",
    },
    ...backupAnswers(NODE),
    ...hardwareAnswers(),
  };
  for (const vmid of [100, 101, 102, 103, 9000]) {
    answers[lineOf(guestConfig(NODE, "qemu", vmid))] = pvesh(
      `qemu_${vmid}_config.json`,
    );
  }
  for (const vmid of [200, 201, 202]) {
    answers[lineOf(guestConfig(NODE, "lxc", vmid))] = pvesh(
      `lxc_${vmid}_config.json`,
    );
  }
  return answers;
}

// What OpenZFS 2.2's getopt says to `-j`, before the usage text; exit code 2.
const refusesJson = (): FakeAnswer => ({
  error: {
    kind: "nonzero_exit",
    code: 2,
    stdout: "",
    stderr:
      "invalid option 'j'\nusage:\n\tlist [-gHLpPv] [-o property[,...]] [-T d|u] [pool] ...\n",
    message: "exit 2",
  },
});

/**
 * The ZFS command lines of an OpenZFS 2.2 node: `-j` refused, the text forms
 * answered from fixtures, `zfs list` from the fixture `zfsList`.
 */
export function zfs22Answers(zfsList: string): Record<string, FakeAnswer> {
  return {
    [lineOf(ZPOOL_LIST_JSON)]: refusesJson(),
    [lineOf(ZPOOL_STATUS_JSON)]: refusesJson(),
    [lineOf(ZFS_LIST_JSON)]: refusesJson(),
    [lineOf(ZPOOL_LIST_TEXT)]: readFixture("zfs/zpool_list.txt"),
    [lineOf(ZPOOL_STATUS_TEXT)]: readFixture("zfs/zpool_status.txt"),
    [lineOf(ZFS_LIST_TEXT)]: readFixture(zfsList),
  };
}
