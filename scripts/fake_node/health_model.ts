/**
 * The simulated node's disks, temperatures, backups and replication,
 * resolved from its profile (issue 17). Pure, like node_model.ts: values
 * that change with time are functions of `nowUnix`.
 *
 * Disks come from the pools' by-id names (`ata-<model>_<serial>`,
 * `nvme-<model>_<serial>`, as udev builds them), so the agent can match
 * each SMART disk to its vdev; `[[disks]]` entries add or override them.
 */
import type { GuestModel, PoolModel, VdevModel } from "./node_model.ts";
import type { BackupJobDef, DiskDef, NodeProfile } from "./node_profile.ts";
import { hash32 } from "./waves.ts";

export interface DiskModel {
  /** the by-id name without a partition suffix */
  byId: string;
  /** `/dev/sda`, `/dev/nvme0` */
  device: string;
  nvme: boolean;
  model: string;
  serial: string;
  capacityBytes: number;
  def: DiskDef;
}

export interface HealthModel {
  disks: DiskModel[];
  temperatures: NodeProfile["temperatures"];
  backups: NodeProfile["backups"];
  replication: NodeProfile["replication"];
  missingTools: NodeProfile["missing_tools"];
}

function leaves(v: VdevModel): VdevModel[] {
  return v.children.length === 0 ? [v] : v.children.flatMap(leaves);
}

/** `ata-WDC_WD80EFZZ-68BTXN0_WD-CA1KX2RZ` → model `WDC WD80EFZZ-68BTXN0`, serial `WD-CA1KX2RZ`. */
export function splitById(byId: string): { model: string; serial: string } {
  const id = byId.replace(/^(ata|nvme)-/, "");
  const cut = id.lastIndexOf("_");
  return {
    model: id.slice(0, cut).replaceAll("_", " "),
    serial: id.slice(cut + 1),
  };
}

const defaults = (name: string): DiskDef => ({
  name,
  health: "passed",
  standby: false,
  temperature: 34,
  power_on_hours: 18_000,
  reallocated: 0,
  reallocated_every_seconds: 0,
  pending: 0,
  crc_errors: 0,
  percentage_used: 3,
  media_errors: 0,
  unsafe_shutdowns: 12,
});

export function buildHealthModel(
  profile: NodeProfile,
  pools: readonly PoolModel[],
): HealthModel {
  // the installer's rpool names a partition (`…-part3`); the disk is the rest
  const disk = (name: string) => name.replace(/-part\d+$/, "");
  const sizes = new Map<string, number>();
  for (const pool of pools) {
    for (const leaf of leaves(pool.root)) {
      sizes.set(disk(leaf.name), leaf.devBytes ?? 0);
    }
  }
  const names = [
    ...new Set([...sizes.keys(), ...profile.disks.map((d) => disk(d.name))]),
  ];
  let ata = 0;
  let nvme = 0;
  const disks = names.map((byId): DiskModel => {
    const isNvme = byId.startsWith("nvme-");
    const device = isNvme
      ? `/dev/nvme${nvme++}`
      : `/dev/sd${String.fromCharCode(97 + ata++)}`;
    const { model, serial } = splitById(byId);
    return {
      byId,
      device,
      nvme: isNvme,
      model,
      serial,
      capacityBytes: sizes.get(byId) || 1_000_204_886_016,
      def: {
        ...defaults(byId),
        ...profile.disks.find((d) => disk(d.name) === byId),
      },
    };
  });
  return {
    disks,
    temperatures: profile.temperatures,
    backups: profile.backups,
    replication: profile.replication,
    missingTools: profile.missing_tools,
  };
}

/** The reallocated count now: grows by one every N minutes since 00:00 UTC. */
export function reallocatedAt(def: DiskDef, nowUnix: number): number {
  if (def.reallocated_every_seconds <= 0) return def.reallocated;
  const sinceMidnight = nowUnix % 86_400;
  return def.reallocated +
    Math.floor(sinceMidnight / def.reallocated_every_seconds);
}

// ---- backups ---------------------------------------------------------------

/** Whether an enabled job covers a guest (PVE's `all`/`exclude`/`vmid`). */
export function jobCovers(job: BackupJobDef, vmid: number): boolean {
  if (!job.enabled) return false;
  return job.all ? !job.exclude.includes(vmid) : job.vmids.includes(vmid);
}

export interface JobRun {
  job: BackupJobDef;
  upid: string;
  start: number;
  end: number;
  guests: { guest: GuestModel; start: number; end: number; ok: boolean }[];
  status: string;
}

const hex8 = (n: number) =>
  (n >>> 0).toString(16).toUpperCase().padStart(8, "0");

/**
 * Every job run of the last `days` days that has finished by `nowUnix`,
 * newest first. Guests run one after another, each for a few minutes;
 * templates and stopped guests are backed up too, as vzdump does.
 */
export function jobRuns(
  node: string,
  health: HealthModel,
  guests: readonly GuestModel[],
  nowUnix: number,
): JobRun[] {
  const runs: JobRun[] = [];
  const today = nowUnix - (nowUnix % 86_400);
  for (let day = 0; day <= health.backups.days; day++) {
    for (const job of health.backups.jobs) {
      if (!job.enabled) continue;
      const start = today - day * 86_400 + job.hour * 3600 + 1;
      let t = start + 2;
      const covered = guests.filter((g) => jobCovers(job, g.vmid));
      const ran = covered.map((guest) => {
        const took = 60 + (hash32(`${job.id}:${guest.vmid}`) % 600);
        const run = {
          guest,
          start: t,
          end: t + took,
          ok: !health.backups.failing.includes(guest.vmid),
        };
        t += took + 1;
        return run;
      });
      const end = t + 1;
      if (end > nowUnix || covered.length === 0) continue;
      const pid = 100_000 + (hash32(`${job.id}:${start}`) % 900_000);
      runs.push({
        job,
        upid: `UPID:${node}:${hex8(pid)}:${hex8(hash32(`p${start}`))}:${
          hex8(start)
        }:vzdump::root@pam:`,
        start,
        end,
        guests: ran,
        status: ran.every((r) => r.ok) ? "OK" : "job errors",
      });
    }
  }
  return runs.sort((a, b) => b.start - a.start);
}

const hms = (s: number) =>
  [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
    .map((n) => String(n).padStart(2, "0")).join(":");

/** The task log vzdump writes for a run (pve-manager VZDump.pm formats). */
export function jobLog(run: JobRun): string[] {
  const lines = [
    `INFO: starting new backup job: vzdump --storage ${run.job.storage} --mode snapshot --compress zstd${
      run.job.all ? " --all 1" : ` ${run.job.vmids.join(" ")}`
    }`,
  ];
  for (const r of run.guests) {
    lines.push(`INFO: Starting Backup of VM ${r.guest.vmid} (${r.guest.type})`);
    lines.push(
      `INFO: Backup started at ${
        new Date(r.start * 1000).toISOString().replace("T", " ").slice(0, 19)
      }`,
    );
    if (r.ok) {
      lines.push(
        `INFO: Finished Backup of VM ${r.guest.vmid} (${hms(r.end - r.start)})`,
      );
    } else {
      lines.push(
        `ERROR: Backup of VM ${r.guest.vmid} failed - VM ${r.guest.vmid} qmp command 'backup' failed - got timeout`,
      );
    }
  }
  lines.push(
    run.status === "OK"
      ? "INFO: Backup job finished successfully"
      : "INFO: Backup job finished with errors",
  );
  lines.push(run.status === "OK" ? "TASK OK" : `TASK ERROR: ${run.status}`);
  return lines;
}
