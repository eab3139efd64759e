/**
 * The fake pvesh's backup and replication endpoints (issue 17):
 * `/cluster/backup`, `/cluster/backup-info/not-backed-up`,
 * `/nodes/{node}/tasks` (with `--typefilter`, `--limit`),
 * `/nodes/{node}/tasks/{upid}/log`, `/nodes/{node}/storage` with
 * `--content backup`, `/nodes/{node}/storage/{id}/content` and
 * `/nodes/{node}/replication`, in the shapes of the fixtures in
 * fixtures/pvesh/backups (see their README rows for the sources).
 */
import type { JsonValue } from "../json_text.ts";
import { jobCovers, jobLog, jobRuns } from "../health_model.ts";
import type { NodeModel } from "../node_model.ts";
import { hash32 } from "../waves.ts";

export type HealthAnswer = { data: JsonValue } | { error: string };

/** vzdump's archive time stamp: `2026_03_28-02_00_01` (UTC here). */
const stamp = (unix: number) => {
  const iso = new Date(unix * 1000).toISOString(); // 2026-03-28T02:00:01.000Z
  return `${iso.slice(0, 10).replaceAll("-", "_")}-${
    iso.slice(11, 19).replaceAll(":", "_")
  }`;
};

/** Answers a health path, or null when the path is not one of these. */
export function healthRoute(
  model: NodeModel,
  path: string,
  params: Record<string, string>,
  now: number,
): HealthAnswer | null {
  const h = model.health;
  const nowUnix = Math.floor(now);
  if (path === "/cluster/backup") {
    return {
      data: h.backups.jobs.map((j) => ({
        id: j.id,
        type: "vzdump",
        enabled: j.enabled ? 1 : 0,
        schedule: `${String(j.hour).padStart(2, "0")}:00`,
        storage: j.storage,
        mode: "snapshot",
        compress: "zstd",
        "notes-template": "{{guestname}}",
        ...(j.all ? { all: 1 } : { vmid: j.vmids.join(",") }),
        ...(j.exclude.length ? { exclude: j.exclude.join(",") } : {}),
        "next-run": nowUnix - (nowUnix % 86_400) + j.hour * 3600 +
          (nowUnix % 86_400 >= j.hour * 3600 ? 86_400 : 0),
      })),
    };
  }
  if (path === "/cluster/backup-info/not-backed-up") {
    return {
      data: model.guests
        .filter((g) => !h.backups.jobs.some((j) => jobCovers(j, g.vmid)))
        .map((g) => ({ vmid: g.vmid, type: g.type, name: g.name })),
    };
  }
  const m = /^\/nodes\/([^/]+)(\/.*)$/.exec(path);
  if (!m || (m[1] !== model.node && m[1] !== "localhost")) return null;
  const sub = m[2];
  if (sub === "/replication") {
    return {
      data: h.replication.map((r) => {
        const last = nowUnix - (nowUnix % 900);
        return {
          id: `${r.guest}-0`,
          jobnum: 0,
          guest: r.guest,
          type: "local",
          target: r.target,
          source: model.node,
          schedule: r.schedule,
          vmtype: model.guests.find((g) => g.vmid === r.guest)?.type ?? "qemu",
          ...(r.disabled ? { disable: 1 } : {}),
          last_try: last,
          last_sync: r.fail_count > 0 ? last - 900 * (r.fail_count + 1) : last,
          next_sync: last + (r.fail_count > 0 ? 300 * r.fail_count : 900),
          duration: 1.5 + (hash32(`r${r.guest}`) % 1000) / 1000,
          fail_count: r.fail_count,
          ...(r.error ? { error: r.error } : {}),
        };
      }),
    };
  }
  const runs = () => jobRuns(model.node, h, model.guests, nowUnix);
  if (sub === "/tasks") {
    if (params.typefilter !== undefined && params.typefilter !== "vzdump") {
      return { data: [] };
    }
    const limit = Number(params.limit ?? 50);
    return {
      data: runs().slice(0, limit).map((r) => {
        const [, , pid, pstart] = r.upid.split(":");
        return {
          upid: r.upid,
          node: model.node,
          pid: parseInt(pid, 16),
          pstart: parseInt(pstart, 16),
          starttime: r.start,
          endtime: r.end,
          type: "vzdump",
          id: "",
          user: "root@pam",
          status: r.status,
        };
      }),
    };
  }
  const log = /^\/tasks\/([^/]+)\/log$/.exec(sub);
  if (log) {
    const upid = decodeURIComponent(log[1]);
    const run = runs().find((r) => r.upid === upid);
    if (!run) return { error: `no such task '${upid}'\n` };
    const limit = Number(params.limit ?? 50);
    return {
      data: jobLog(run).slice(0, limit).map((t, i) => ({ n: i + 1, t })),
    };
  }
  const content = /^\/storage\/([^/]+)\/content$/.exec(sub);
  if (content) {
    const storage = model.storages.find((s) => s.name === content[1]);
    if (!storage) return { error: `storage '${content[1]}' does not exist\n` };
    if (!storage.active || !storage.enabled) {
      return { error: `storage '${storage.name}' is not online\n` };
    }
    const archives: JsonValue[] = [];
    for (const run of runs().filter((r) => r.job.storage === storage.name)) {
      for (const g of run.guests.filter((x) => x.ok)) {
        const size = Math.round(g.guest.diskGib * 1024 ** 3 * 0.23);
        if (storage.type === "pbs") {
          // PBS snapshots: `<store>:backup/<vm|ct>/<vmid>/<ISO time>Z`, verified
          const kind = g.guest.type === "qemu" ? "vm" : "ct";
          archives.push({
            volid: `${storage.name}:backup/${kind}/${g.guest.vmid}/${
              new Date(g.start * 1000).toISOString().slice(0, 19)
            }Z`,
            vmid: g.guest.vmid,
            ctime: g.start,
            size,
            format: `pbs-${kind}`,
            subtype: g.guest.type,
            content: "backup",
            notes: g.guest.name,
            verification: {
              state: "ok",
              upid: `UPID:pbs:${g.guest.vmid}:verify`,
            },
          });
          continue;
        }
        const ext = g.guest.type === "qemu" ? "vma.zst" : "tar.zst";
        archives.push({
          volid:
            `${storage.name}:backup/vzdump-${g.guest.type}-${g.guest.vmid}-${
              stamp(g.start)
            }.${ext}`,
          vmid: g.guest.vmid,
          ctime: g.start,
          size,
          format: ext,
          subtype: g.guest.type,
          content: "backup",
          notes: g.guest.name,
        });
      }
    }
    return { data: archives };
  }
  return null;
}
