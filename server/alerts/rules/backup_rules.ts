/**
 * Backup rules (issue 17), over the medium sample's `backups`:
 * backup_failed, backup_stale and guest_not_backed_up. The predicates live
 * in server/health/health_findings.ts, shared with the host page's flags.
 */
import {
  backupFailed as failed,
  guestNotBackedUp as uncovered,
  HEALTH_DEFAULTS,
} from "../../health/health_findings.ts";
import { conditionRule, defineRule, type RuleSample } from "./rule.ts";

const HOUR = 3_600_000;

function guestName(sample: RuleSample): (vmid: number) => string | null {
  // medium samples carry no runtime list; vms_detail has the names
  const detail = sample.section("vms_detail");
  const names = new Map((detail?.vms ?? []).map((g) => [g.vmid, g.name]));
  return (vmid) => names.get(vmid) ?? null;
}

export const backupFailedRule = conditionRule({
  id: "backup_failed",
  description: "a guest's newest vzdump backup ended in error",
  interval: "medium",
  section: "backups",
  judge(b, sample) {
    const names = guestName(sample);
    return failed(b, names).map((f) => ({
      kind: "guest",
      object: f.object,
      name: names(Number(f.object)) ?? undefined,
      value: 1,
      shown: "failed",
      level: "crit",
      summary: f.text,
    }));
  },
});

export const backupStaleRule = defineRule({
  id: "backup_stale",
  description:
    "the newest backup of a guest that a job covers is older than warn / crit hours (or missing)",
  intervals: ["medium"],
  compare: "above",
  defaults: {
    warn: HEALTH_DEFAULTS.backupStaleHours,
    crit: null,
    hysteresis: 1,
  },
  evaluate(sample) {
    const b = sample.section("backups");
    if (b === null || b.tasks_read_at_unix === null) return null;
    const names = guestName(sample);
    const out = new Set(b.not_backed_up.map((g) => g.vmid));
    return b.guests.filter((g) => !out.has(g.vmid)).map((g) => {
      const ctime = g.newest?.ctime_unix ?? null;
      // no archive at all counts as older than any limit
      const hours = ctime === null ? 1e6 : (sample.atMs - ctime * 1000) / HOUR;
      const name = names(g.vmid);
      return {
        kind: "guest",
        object: String(g.vmid),
        name: name ?? undefined,
        label: name ? `${name} (${g.vmid})` : String(g.vmid),
        value: Math.round(hours * 10) / 10,
        shown: ctime === null ? "no backup" : `${Math.round(hours)} h`,
        summary: ctime === null
          ? `${name ?? `guest ${g.vmid}`} has no backup`
          : `newest backup of ${name ?? `guest ${g.vmid}`} is ${
            Math.round(hours)
          } h old`,
      };
    });
  },
});

export const guestNotBackedUpRule = conditionRule({
  id: "guest_not_backed_up",
  description: "a guest that no backup job covers",
  interval: "medium",
  section: "backups",
  judge(b) {
    if (b.tasks_read_at_unix === null) return null;
    return uncovered(b).map((f) => ({
      kind: "guest",
      object: f.object,
      value: 1,
      shown: "in no job",
      level: "warn",
      summary: f.text,
    }));
  },
});
