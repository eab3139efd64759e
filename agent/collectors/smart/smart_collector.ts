/**
 * The slow-cycle SMART collector: `smartctl --scan-open -j`, then one
 * `smartctl -a -j -n standby` per disk (two at a time, inside the shared
 * command limit), each disk matched to the ZFS vdev that uses it. It runs
 * only on the slow cycle and at most every `smart_seconds` (default 30 min,
 * the slow cycle's default), and never wakes a sleeping disk (`-n standby`).
 *
 * Failures a whole host shares (smartctl missing, no privileges) become one
 * error entry per sample, not one per disk.
 */
import type {
  CollectorError,
  DiskVdev,
  Smart,
  SmartDisk,
} from "@proxmon/shared";
import { SMARTCTL_SCAN, smartctlRead } from "../commands.ts";
import { describeFailure, type Exec, runCommand } from "../exec.ts";
import { limitRunner } from "../concurrency_limit.ts";
import type { WarnOnce } from "../warn_once.ts";
import { matchVdev } from "./pool_devices.ts";
import {
  parseSmartctl,
  parseSmartctlScan,
  type ScannedDisk,
  SMART_TAG,
} from "./smartctl.ts";

export type PoolDeviceSource = () => Promise<
  { devices: DiskVdev[]; errors: CollectorError[] }
>;

export interface SmartCollector {
  /** Reads the disks when `everyMs` has passed since the last read, else returns that read. */
  collect(nowMs: number): Promise<Smart>;
}

/** SMART's own period: the slow cycle's default, also when slow_seconds is shorter. */
export const SMART_EVERY_MS = 30 * 60_000;

/** Disks read at once: SMART reads never take every command slot from the fast cycle. */
const SMART_CONCURRENCY = 2;

export function createSmartCollector(
  exec: Exec,
  poolDevices: PoolDeviceSource,
  everyMs = SMART_EVERY_MS,
  warnOnce: WarnOnce = () => {},
): SmartCollector {
  const diskExec: Exec = {
    runner: limitRunner(exec.runner, SMART_CONCURRENCY),
    timeoutMs: exec.timeoutMs,
  };
  let last: { atMs: number; value: Smart } | null = null;
  // The previous sector counts per disk, to tell when they go up.
  const counts = new Map<string, { reallocated: number; pending: number }>();
  function rising(disk: SmartDisk): SmartDisk["sectors_rising"] {
    if (disk.ata === null || disk.standby) return null;
    const key = disk.serial ?? disk.device;
    const now = {
      reallocated: disk.ata.reallocated_sectors ?? 0,
      pending: disk.ata.pending_sectors ?? 0,
    };
    const before = counts.get(key);
    counts.set(key, now);
    if (before === undefined) return null;
    return {
      reallocated: Math.max(0, now.reallocated - before.reallocated),
      pending: Math.max(0, now.pending - before.pending),
    };
  }
  async function readDisk(scanned: ScannedDisk) {
    const command = smartctlRead(scanned.device, scanned.type);
    const result = await runCommand(diskExec, command);
    if (result.ok) return parseSmartctl(result.stdout, 0, scanned);
    const error = result.error;
    if (error.kind === "nonzero_exit" && error.stdout.trim() !== "") {
      return parseSmartctl(error.stdout, error.code, scanned);
    }
    return {
      disk: null,
      wwn: null,
      permissionDenied: false,
      errors: [{ tag: SMART_TAG, message: describeFailure(command, error) }],
    };
  }

  async function read(): Promise<Smart> {
    const [scan, pools] = await Promise.all([
      runCommand(exec, SMARTCTL_SCAN),
      poolDevices(),
    ]);
    if (!scan.ok) {
      const error = scan.error;
      const message = error.kind === "enoent"
        ? "smartctl not found: install smartmontools (apt install smartmontools) to see disk health"
        : describeFailure(SMARTCTL_SCAN, error);
      // --scan-open prints its JSON even when it exits non-zero
      if (
        !(error.kind === "nonzero_exit" &&
          error.stdout.trim().startsWith("{"))
      ) {
        warnOnce("smartctl", message);
        return { disks: [], errors: [{ tag: SMART_TAG, message }] };
      }
    }
    const scanText = scan.ok
      ? scan.stdout
      : scan.error.kind === "nonzero_exit"
      ? scan.error.stdout
      : "";
    const scanned = parseSmartctlScan(scanText);
    const readings = await Promise.all(scanned.disks.map(readDisk));
    const errors: CollectorError[] = [...scanned.errors, ...pools.errors];
    const denied = readings.filter((r) => r.permissionDenied);
    if (denied.length > 0) {
      warnOnce(
        "smartctl_permission",
        "smartctl: permission denied; run the agent as root to read SMART data",
      );
      errors.push({
        tag: `${SMART_TAG}_permission`,
        message:
          `smartctl: permission denied on ${denied.length} of ${readings.length} disks; the agent must run as root to read SMART data`,
      });
    }
    const disks: SmartDisk[] = [];
    for (const reading of readings) {
      if (!reading.permissionDenied) errors.push(...reading.errors);
      if (reading.disk === null) continue;
      disks.push({
        ...reading.disk,
        vdev: matchVdev({ ...reading.disk, wwn: reading.wwn }, pools.devices),
        sectors_rising: rising(reading.disk),
      });
    }
    return { disks, errors };
  }

  return {
    async collect(nowMs) {
      if (last !== null && nowMs - last.atMs < everyMs) return last.value;
      last = { atMs: nowMs, value: await read() };
      return last.value;
    },
  };
}
