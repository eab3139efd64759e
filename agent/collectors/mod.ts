/**
 * The agent's collectors behind one factory. `createCollectors` owns all
 * state a run needs (the previous /proc reading for rates, the ZFS output
 * form in use, the guest configs cached between medium cycles, the shared
 * command limit); nothing lives in module globals.
 *
 * Every payload value carries `errors` and no collector throws out of a
 * cycle: parsers report surprises as entries, and a collector that fails in
 * an unforeseen way still yields its empty value with an `internal` entry.
 */
import type {
  CollectorError,
  FastPayload,
  HostMetrics,
  MediumPayload,
  SlowPayload,
} from "@proxmon/shared";
import type { CommandRunner } from "../runner.ts";
import type { Exec } from "./exec.ts";
import { createHostCollector } from "./host/host.ts";
import { type StatFs, statfsRootFs } from "./host/root_fs.ts";
import type { ReadFile } from "./host/proc_reader.ts";
import { limitRunner } from "./concurrency_limit.ts";
import {
  createGuestConfigCache,
  DEFAULT_GUEST_CONFIG_TTL_MS,
} from "./pve/guest_config_cache.ts";
import { collectGuestsDetail } from "./pve/guest_detail.ts";
import { collectGuestsRuntime } from "./pve/guest_lists.ts";
import { collectStorage } from "./pve/storage.ts";
import { collectSystemInfo } from "./system/system_info.ts";
import { createZfsCollector } from "./zfs/zfs_collector.ts";
import { createBackupCollector } from "./backup/backup_collector.ts";
import { pveshSource } from "./backup/pve_get.ts";
import { createReplicationCollector } from "./backup/replication.ts";
import { createSmartCollector } from "./smart/smart_collector.ts";
import { warnOnceVia } from "./warn_once.ts";
import { createTemperatureCollector } from "./sensors/temperature_collector.ts";

export interface CollectorDeps {
  runner: CommandRunner;
  /** Where /proc is mounted: `/proc`, or a fake directory (`--proc-dir`). */
  procDir: string;
  /** The PVE node name used in `pvesh` paths (not the monitoring host name). */
  node: string;
  agentVersion: string;
  /** Passed to every `runner.run` as `{ timeoutMs }`. */
  commandTimeoutMs: number;
  /** Most commands in flight at once, across all collectors (e.g. 8). */
  concurrency: number;
  /**
   * How often each guest's config is refetched when its runtime shows no
   * change (default 10 min; 0: every medium cycle).
   */
  configTtlMs?: number;
  /** statfs(2) for the root filesystem (default: node:fs/promises). */
  statfs?: StatFs;
  /** Where a collector says, once, that it cannot read a source. */
  warn?: (message: string) => void;
  /** How often SMART is read, on the slow cycle (default 30 min). */
  smartEveryMs?: number;
  /** Where hwmon lives, for temperatures without lm-sensors (default `/sys/class/hwmon`). */
  hwmonDir?: string;
  /** How files under `procDir` are read; a fake /proc in memory for the demo's backfill. */
  readFile?: ReadFile;
}

export interface Collectors {
  /** host, zfs_pools, storage and vms_runtime, collected in parallel. `nowMs` times the host rates. */
  fast(nowMs: number): Promise<FastPayload>;
  /** zfs_datasets, vms_detail, backups, replication and temperatures. `nowMs` dates the caches. */
  medium(nowMs: number): Promise<MediumPayload>;
  /** system_info and smart (smartctl runs on this cycle only). */
  slow(nowMs: number): Promise<SlowPayload>;
}

function emptyHost(errors: CollectorError[]): HostMetrics {
  return {
    cpu_percent: null,
    load1: null,
    load5: null,
    load15: null,
    mem_total_bytes: null,
    mem_available_bytes: null,
    swap_total_bytes: null,
    swap_used_bytes: null,
    uptime_seconds: null,
    net: [],
    disks: [],
    root_fs: null,
    arc: null,
    errors,
  };
}

/**
 * Runs one collector. Collectors handle every failure they expect; this is
 * the last line that keeps a bug in one of them (or a runner that throws)
 * from taking the other collectors' data down with it.
 */
async function guarded<T>(
  tag: string,
  collect: () => Promise<T>,
  fallback: (errors: CollectorError[]) => T,
): Promise<T> {
  try {
    return await collect();
  } catch (e) {
    return fallback([{
      tag: `${tag}_internal`,
      message: e instanceof Error ? e.message : String(e),
    }]);
  }
}

/** Creates the collectors for one agent run. */
export function createCollectors(deps: CollectorDeps): Collectors {
  const exec: Exec = {
    runner: limitRunner(deps.runner, deps.concurrency),
    timeoutMs: deps.commandTimeoutMs,
  };
  const host = createHostCollector({
    procDir: deps.procDir,
    rootFs: statfsRootFs(deps.statfs),
    warn: deps.warn,
    readFile: deps.readFile,
  });
  const zfs = createZfsCollector(exec);
  const guestConfigs = createGuestConfigCache(
    deps.configTtlMs ?? DEFAULT_GUEST_CONFIG_TTL_MS,
  );
  const { node } = deps;
  // The node's guests as the latest fast cycle saw them, so backups list
  // exactly those (a shared PBS storage also holds other nodes' guests).
  let guestIds: number[] | null = null;
  const pve = pveshSource(exec);
  const backups = createBackupCollector(pve, {
    node,
    guestIds: () => guestIds,
  });
  const replication = createReplicationCollector(pve, node);
  const warnOnce = warnOnceVia(deps.warn);
  const temperatures = createTemperatureCollector(exec, {
    hwmonDir: deps.hwmonDir ?? "/sys/class/hwmon",
  }, warnOnce);
  const smart = createSmartCollector(
    exec,
    () => zfs.devices(),
    deps.smartEveryMs,
    warnOnce,
  );

  return {
    async fast(nowMs) {
      const [hostMetrics, zfs_pools, storage, vms_runtime] = await Promise.all([
        guarded("host", () => host.collect(nowMs), emptyHost),
        guarded(
          "zfs_pools",
          () => zfs.pools(),
          (errors) => ({ pools: [], errors }),
        ),
        guarded(
          "storage",
          () => collectStorage(exec, node),
          (errors) => ({ storages: [], errors }),
        ),
        guarded(
          "vms_runtime",
          () => collectGuestsRuntime(exec, node),
          (errors) => ({ vms: [], errors }),
        ),
      ]);
      if (vms_runtime.errors.length === 0) {
        guestIds = vms_runtime.vms.map((vm) => vm.vmid);
      }
      return { host: hostMetrics, zfs_pools, storage, vms_runtime };
    },
    async medium(nowMs) {
      const [zfs_datasets, vms_detail, backupsValue, replicationValue, temps] =
        await Promise.all([
          guarded(
            "zfs_datasets",
            () => zfs.datasets(),
            (errors) => ({ datasets: [], errors }),
          ),
          guarded(
            "vms_detail",
            () =>
              collectGuestsDetail(exec, node, deps.concurrency, {
                cache: guestConfigs,
                nowMs,
              }),
            (errors) => ({ vms: [], errors }),
          ),
          guarded("backups", () => backups.collect(nowMs), (errors) => ({
            jobs: [],
            not_backed_up: [],
            guests: [],
            storages: [],
            tasks_read_at_unix: null,
            errors,
          })),
          guarded(
            "replication",
            () => replication.collect(nowMs),
            (errors) => ({ jobs: [], read_at_unix: null, errors }),
          ),
          guarded("temperatures", () => temperatures.collect(), (errors) => ({
            source: null,
            cpu_package_c: null,
            cpu_core_max_c: null,
            nvme: [],
            board: [],
            errors,
          })),
        ]);
      return {
        zfs_datasets,
        vms_detail,
        backups: backupsValue,
        replication: replicationValue,
        temperatures: temps,
      };
    },
    async slow(nowMs) {
      // smartctl runs here and nowhere else: the slow cycle (default 30 min).
      const smartValue = guarded(
        "smart",
        () => smart.collect(nowMs),
        (errors) => ({ disks: [], errors }),
      );
      const system_info = await guarded(
        "system_info",
        () => collectSystemInfo(exec, deps.agentVersion),
        (errors) => ({
          pve_version: null,
          kernel: null,
          zfs_version: null,
          zfs_kmod_version: null,
          pending_updates: null,
          agent_version: deps.agentVersion,
          errors,
        }),
      );
      return { system_info, smart: await smartValue };
    },
  };
}

// The pure parsers and building blocks, for tests, the fake node and benchmarks.
export * from "./commands.ts";
export { createLimiter, limitRunner, mapPool } from "./concurrency_limit.ts";
export { usableIp, usableIps } from "./ip.ts";
export * from "./host/proc_parsers.ts";
export { counterRates, cpuPercent } from "./host/rates.ts";
export { createHostCollector, type HostCollector } from "./host/host.ts";
export { parseZpoolListJson, parseZpoolStatusJson } from "./zfs/zpool_json.ts";
export { parseZpoolListText, parseZpoolStatusText } from "./zfs/zpool_text.ts";
export {
  parseZfsListJson,
  parseZfsListText,
  summarizeDatasets,
} from "./zfs/datasets.ts";
export { countVdevs, type VdevNode } from "./zfs/vdev_tree.ts";
export { type LocalTimeToUnix, systemLocalTime, utcTime } from "./zfs/scan.ts";
export {
  createZfsCollector,
  refusesJson,
  type ZfsCollector,
} from "./zfs/zfs_collector.ts";
export { parseStorage } from "./pve/storage.ts";
export { parseLxcList, parseQemuList } from "./pve/guest_lists.ts";
export {
  parseGuestAgentInterfaces,
  parseLxcConfigIps,
  parseLxcInterfaces,
  qemuAgentEnabled,
} from "./pve/guest_ips.ts";
export {
  parseAptUpgradable,
  parsePveversion,
  parseZfsVersion,
} from "./system/system_info.ts";
export {
  backupStorages,
  createBackupCollector,
  summarize as summarizeBackups,
} from "./backup/backup_collector.ts";
export {
  jobCovers,
  parseBackupContent,
  parseBackupJobs,
  parseNotBackedUp,
} from "./backup/backup_config.ts";
export { parseVzdumpLog, parseVzdumpTasks } from "./backup/vzdump_tasks.ts";
export { parseReplication } from "./backup/replication.ts";
export { pveshGetWith } from "./backup/pve_get.ts";
export { parseSmartctl, parseSmartctlScan } from "./smart/smartctl.ts";
export {
  diskNames,
  leafBase,
  matchVdev,
  poolDevices,
} from "./smart/pool_devices.ts";
export {
  parseHwmon,
  parseSensorsJson,
  summarizeChips,
} from "./sensors/temperatures.ts";
