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
import { type ReadFile, readTextFileResult } from "./host/proc_reader.ts";
import { DEFAULT_CGROUP_DIR, withGuestPressure } from "./pve/guest_pressure.ts";
import { limitRunner } from "./concurrency_limit.ts";
import {
  createGuestConfigCache,
  DEFAULT_GUEST_CONFIG_TTL_MS,
} from "./pve/guest_cache.ts";
import {
  collectGuestsDetail,
  createGuestFactsCache,
} from "./pve/guest_detail.ts";
import {
  type ReadConfigFile,
  readConfigFile as readPmxcfsFile,
} from "./pve/guest_config_file.ts";
import { collectPveFast, type PveFast } from "./pve/pve_fast.ts";
import { pveshSource, type PveSource } from "./pve/pve_source.ts";
import { collectSystemInfo } from "./system/system_info.ts";
import { createZfsCollector } from "./zfs/zfs_collector.ts";
import { createBackupCollector } from "./backup/backup_collector.ts";
import type { PveGet } from "./backup/pve_get.ts";
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
   * How often each guest's config (where pmxcfs has no file) and guest-agent
   * facts are refetched when its runtime shows no change (default 10 min;
   * 0: every medium cycle).
   */
  configTtlMs?: number;
  /**
   * How often each guest's guest-agent facts (IPs, file systems) are asked
   * for again while the guest runs on (default: `GUEST_AGENT_TTL_MS` for the
   * configured source; `configTtlMs` when that is set).
   */
  guestAgentTtlMs?: number;
  /**
   * Most guests asked for their guest-agent facts in one medium cycle
   * (default `GUEST_AGENT_PER_CYCLE`; Infinity for `--once`, which has one
   * cycle to show everything).
   */
  guestAgentPerCycle?: number;
  /** Where pmxcfs is mounted (default `/etc/pve`). */
  pveDir?: string;
  /** Reads a pmxcfs file (default: the file system). */
  readConfigFile?: ReadConfigFile;
  /**
   * The PVE source for one cycle, and where it records problems that did
   * not stop the cycle (an API failure it fell back from). Default: pvesh.
   */
  pveCycle?: (exec: Exec) => PveCycle;
  /** statfs(2) for the root filesystem (default: node:fs/promises). */
  statfs?: StatFs;
  /** Where a collector says, once, that it cannot read a source. */
  warn?: (message: string) => void;
  /** How often SMART is read, on the slow cycle (default 30 min). */
  smartEveryMs?: number;
  /** Where hwmon lives, for temperatures without lm-sensors (default `/sys/class/hwmon`). */
  hwmonDir?: string;
  /** How files under `procDir` (and `cgroupDir`) are read; a fake /proc in memory for the demo's backfill. */
  readFile?: ReadFile;
  /**
   * Where cgroup v2 is mounted (default `/sys/fs/cgroup`), for each running
   * guest's pressure files (guest_pressure.ts).
   */
  cgroupDir?: string;
}

/** The PVE source of one cycle. */
export interface PveCycle {
  source: PveSource;
  /** Problems to report with the cycle's PVE data. */
  errors: CollectorError[];
}

export const DEFAULT_PVE_DIR = "/etc/pve";

/**
 * The guest-agent TTL by PVE source. Through pvesh each ask is one Perl
 * start per call (IPs, file systems: two per VM, ~300 ms of CPU each), and
 * the fast cycle's `/cluster/resources` already spends 6 of the ~10 calls a
 * minute that the 3 s/min budget allows (issue 11), the backups and
 * replication collectors about 0.6 more; at 60 min a node with 21
 * agent-enabled VMs asks 0.7 times a minute (at 30 min the budget was 0.98
 * used). So without an API token a VM's file systems and IPs are up to an
 * hour old; through the API a call costs the agent an HTTPS request, so
 * 10 min. A guest that starts or restarts is asked at once either way.
 */
export const GUEST_AGENT_TTL_MS = {
  pvesh: 60 * 60_000,
  api: 10 * 60_000,
} as const;

/**
 * Guests asked per medium cycle at most. A first cycle that asked all of a
 * busy node's guests took 13–20 s on the 50-guest bench node (44 pvesh
 * calls); 4 guests (8 calls) keep it within the 5 s target, and at one
 * cycle a minute the node's 22 agent-enabled VMs are all known after 6
 * cycles. Steady state needs about 1 a cycle.
 */
export const GUEST_AGENT_PER_CYCLE = 4;

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
    psi: null,
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
  const ttlMs = deps.configTtlMs ?? DEFAULT_GUEST_CONFIG_TTL_MS;
  const guestConfigs = createGuestConfigCache(ttlMs);
  const guestFacts = createGuestFactsCache(
    deps.guestAgentTtlMs ?? deps.configTtlMs ??
      GUEST_AGENT_TTL_MS[deps.pveCycle ? "api" : "pvesh"],
  );
  const { node } = deps;
  const pveCycle = deps.pveCycle ??
    ((e: Exec): PveCycle => ({ source: pveshSource(e), errors: [] }));
  // The guest list of the latest fast cycle, which the medium cycle reuses
  // instead of listing again.
  let latestPve: Promise<PveFast> | undefined;
  // The node's guests as the latest fast cycle saw them, so backups list
  // exactly those (a shared PBS storage also holds other nodes' guests).
  let guestIds: number[] | null = null;
  // The medium cycle's PVE source, which backups and replication share with
  // the guest detail; a cycle of their own outside a medium cycle (tests).
  let mediumCycle: PveCycle | undefined;
  const pve: PveGet = async (path, params, tag) => {
    const cycle = mediumCycle ?? pveCycle(exec);
    const out = await cycle.source.get(path, tag, { params });
    return out.ok ? { ok: true, value: out.data } : out;
  };
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

  const readFile = deps.readFile ?? readTextFileResult;
  const cgroupDir = deps.cgroupDir ?? DEFAULT_CGROUP_DIR;
  const pveFast = (): Promise<PveFast> => {
    const cycle = pveCycle(exec);
    return guarded(
      "pve",
      async () => {
        const out = await collectPveFast(cycle.source, node);
        out.vms_runtime.errors.push(...cycle.errors);
        out.vms_runtime.vms = await withGuestPressure(
          out.vms_runtime.vms,
          readFile,
          cgroupDir,
        );
        return out;
      },
      (errors) => ({
        storage: { storages: [], errors },
        vms_runtime: { vms: [], errors },
      }),
    );
  };

  return {
    async fast(nowMs) {
      const pveNow = pveFast();
      latestPve = pveNow;
      const [hostMetrics, zfs_pools, { storage, vms_runtime }] = await Promise
        .all([
          guarded("host", () => host.collect(nowMs), emptyHost),
          guarded(
            "zfs_pools",
            () => zfs.pools(),
            (errors) => ({ pools: [], errors }),
          ),
          pveNow,
        ]);
      if (vms_runtime.errors.length === 0) {
        guestIds = vms_runtime.vms.map((vm) => vm.vmid);
      }
      return { host: hostMetrics, zfs_pools, storage, vms_runtime };
    },
    async medium(nowMs) {
      const cycle = pveCycle(exec);
      mediumCycle = cycle;
      const [zfs_datasets, vms_detail, backupsValue, replicationValue, temps] =
        await Promise.all([
          guarded(
            "zfs_datasets",
            () => zfs.datasets(),
            (errors) => ({ datasets: [], errors }),
          ),
          guarded(
            "vms_detail",
            async () => {
              const { vms_runtime } = await (latestPve ?? pveFast());
              return collectGuestsDetail(vms_runtime, {
                source: cycle.source,
                node,
                concurrency: deps.concurrency,
                pveDir: deps.pveDir ?? DEFAULT_PVE_DIR,
                readConfigFile: deps.readConfigFile ?? readPmxcfsFile,
                configs: guestConfigs,
                facts: guestFacts,
                nowMs,
                factsPerCycle: deps.guestAgentPerCycle ??
                  GUEST_AGENT_PER_CYCLE,
                // each VM asked is two calls: leave the shared command
                // limit room for the fast cycle's own call
                factsConcurrency: Math.max(1, Math.floor(deps.concurrency / 2)),
              });
            },
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
      if (mediumCycle === cycle) mediumCycle = undefined;
      vms_detail.errors.push(...cycle.errors);
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
export { clusterResourcesOf } from "./pve/cluster_resources.ts";
export { parseGuestConfigFile } from "./pve/guest_config_file.ts";
export { parseLxcList, parseQemuList } from "./pve/guest_lists.ts";
export {
  lxcNeedsLiveIps,
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
