/**
 * Test helper: answers for the backup, replication, temperature and SMART
 * command lines (issue 17) of a fixture node, from real-format fixtures.
 */
import type { FakeAnswer } from "./fake_runner.ts";
import {
  lineOf,
  SENSORS_JSON,
  SMARTCTL_SCAN,
  smartctlRead,
} from "../collectors/commands.ts";
import { pveshGetWith } from "../collectors/backup/pve_get.ts";
import { readFixture } from "./fixtures.ts";

const backups = (name: string) => readFixture(`pvesh/backups/${name}`);

/** The pvesh paths the medium cycle reads for backups and replication. */
export function backupAnswers(node: string): Record<string, FakeAnswer> {
  const get = (path: string, params: Record<string, string | number> = {}) =>
    lineOf(pveshGetWith(path, params));
  return {
    [get(`/nodes/${node}/tasks`, { typefilter: "vzdump", limit: 200 })]:
      backups(
        "nodes_tasks__ansible_pve6.4_recorded_srvreload_one_failed.json",
      ),
    [get("/cluster/backup")]: backups(
      "cluster_backup__ansible_2024_two_jobs.json",
    ),
    [get("/cluster/backup-info/not-backed-up")]: backups(
      "cluster_backup-info_not-backed-up__constructed.json",
    ),
    [get(`/nodes/${node}/storage`, { content: "backup" })]: JSON.stringify([
      {
        storage: "local",
        content: "backup,iso,vztmpl",
        enabled: 1,
        active: 1,
        type: "dir",
      },
    ]),
    [get(`/nodes/${node}/storage/local/content`, { content: "backup" })]:
      backups(
        "storage_content_backup__iobroker_issue341_2025_dir_lxc_notes.json",
      ),
    [get(`/nodes/${node}/replication`)]: backups(
      "nodes_replication__constructed_ok_failing_disabled.json",
    ),
  };
}

/** `sensors -j` and the SMART reads of one NVMe disk. */
export function hardwareAnswers(): Record<string, FakeAnswer> {
  return {
    [lineOf(SENSORS_JSON)]: readFixture(
      "sensors/sensors_j__intel_coretemp_nct6798_asrock_nvme.json",
    ),
    [lineOf(SMARTCTL_SCAN)]: readFixture("smart/smartctl_scan_j__nvme.json"),
    [lineOf(smartctlRead("/dev/nvme0", "nvme"))]: readFixture(
      "smart/smartctl_a_j__nvme_intel_660p_7.1.json",
    ),
  };
}
