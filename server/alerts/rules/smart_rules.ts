/**
 * Disk rules (issue 17): smart_failed, smart_sectors_growing and nvme_wear
 * over the slow sample's `smart`; disk_temperature over SMART temperatures
 * (slow) and the NVMe composite sensors (medium).
 */
import type { SmartDisk } from "@proxmon/shared";
import { HEALTH_DEFAULTS, smartFailed } from "../../health/health_findings.ts";
import { conditionRule, defineRule } from "./rule.ts";

const diskObject = (d: SmartDisk) => d.serial ?? d.device;
const diskLabel = (d: SmartDisk) =>
  `${d.device}${d.vdev ? ` (${d.vdev.pool}/${d.vdev.vdev})` : ""}`;

export const smartFailedRule = conditionRule({
  id: "smart_failed",
  description: "a disk's SMART overall health assessment failed",
  interval: "slow",
  section: "smart",
  judge(s) {
    return smartFailed(s).map((f) => ({
      kind: "disk",
      object: f.object,
      value: 1,
      shown: "FAILED",
      level: "crit",
      summary: f.text,
    }));
  },
});

interface Seen {
  count: number;
  lastRiseMs: number | null;
}

/**
 * Reallocated + pending sectors went up since the previous reading (kept in
 * memory, and after a restart the stored alert is the baseline, as for
 * vdev_errors); stays firing for `clear_after` after the last rise.
 */
export const smartSectorsGrowingRule = defineRule({
  id: "smart_sectors_growing",
  description: "a disk's reallocated or pending sector count goes up",
  intervals: ["slow"],
  compare: "condition",
  defaults: {
    params: {
      clear_after: {
        kind: "duration",
        default: 7 * 24 * 3_600_000,
        description: "how long after the last rise the alert resolves",
      },
    },
  },
  evaluate(sample, ctx) {
    const s = sample.section("smart");
    if (s === null) return null;
    return s.disks.filter((d) => d.ata !== null && !d.standby).map((d) => {
      const object = diskObject(d);
      const count = (d.ata!.reallocated_sectors ?? 0) +
        (d.ata!.pending_sectors ?? 0);
      let seen = ctx.memory.get(object) as Seen | undefined;
      if (seen === undefined) {
        const prev = ctx.previous(object);
        seen = prev === null ? { count, lastRiseMs: null } : {
          count: Number(prev.value ?? count),
          lastRiseMs: prev.state === "firing" ? sample.atMs : null,
        };
      }
      const agentRise = (d.sectors_rising?.reallocated ?? 0) +
        (d.sectors_rising?.pending ?? 0);
      const rose = count > seen.count || agentRise > 0;
      seen = { count, lastRiseMs: rose ? sample.atMs : seen.lastRiseMs };
      ctx.memory.set(object, seen);
      const { clear_after } = ctx.settings({ kind: "disk", object }).params;
      const active = seen.lastRiseMs !== null &&
        sample.atMs - seen.lastRiseMs < clear_after;
      return {
        kind: "disk",
        object,
        label: diskLabel(d),
        value: count,
        shown: `${d.ata!.reallocated_sectors ?? 0} reallocated, ${
          d.ata!.pending_sectors ?? 0
        } pending`,
        level: active ? "crit" : null,
        summary: `${diskLabel(d)}: reallocated sectors ${
          d.ata!.reallocated_sectors ?? 0
        }, pending ${d.ata!.pending_sectors ?? 0}`,
      };
    });
  },
});

export const nvmeWearRule = defineRule({
  id: "nvme_wear",
  description:
    "an NVMe drive's percentage used (wear) is at or above warn / crit",
  intervals: ["slow"],
  compare: "above",
  defaults: { warn: HEALTH_DEFAULTS.nvmeWearPercent, crit: 95, hysteresis: 0 },
  evaluate(sample) {
    const s = sample.section("smart");
    if (s === null) return null;
    return s.disks.filter((d) => d.nvme !== null).map((d) => ({
      kind: "disk",
      object: diskObject(d),
      label: diskLabel(d),
      value: d.nvme!.percentage_used,
      shown: `${d.nvme!.percentage_used ?? "?"} % used`,
      summary: `${diskLabel(d)} is ${d.nvme!.percentage_used ?? "?"} % worn`,
    }));
  },
});

/**
 * Disk temperatures from both sources: SMART (slow cycle, remembered) and
 * the NVMe composite sensors (each medium sample). The observations come
 * out on medium samples, so a slow sample never resolves an NVMe reading.
 */
export const diskTemperatureRule = defineRule({
  id: "disk_temperature",
  description: "a disk's temperature (°C) stays at or above warn / crit",
  intervals: ["medium", "slow"],
  compare: "above",
  defaults: {
    warn: HEALTH_DEFAULTS.diskTemperatureC,
    crit: 65,
    hysteresis: 3,
    forMs: 10 * 60_000,
  },
  evaluate(sample, ctx) {
    if (sample.interval === "slow") {
      const s = sample.section("smart");
      if (s !== null) {
        ctx.memory.set(
          "smart",
          s.disks.filter((d) => d.temperature_c !== null).map((d) => ({
            object: diskObject(d),
            label: diskLabel(d),
            value: d.temperature_c,
          })),
        );
      }
      return null;
    }
    const t = sample.section("temperatures");
    const fromSmart = (ctx.memory.get("smart") ?? []) as {
      object: string;
      label: string;
      value: number | null;
    }[];
    // an NVMe drive is read by both; its sensor is the fresher reading
    const nvme = (t?.nvme ?? []).map((n) => ({
      object: n.device,
      label: `NVMe ${n.device}`,
      value: n.composite_c,
    }));
    return [
      ...fromSmart.filter((d) => !/nvme/i.test(d.label) || nvme.length === 0),
      ...nvme,
    ].map((d) => ({
      kind: "disk",
      object: d.object,
      label: d.label,
      value: d.value,
      shown: d.value === null ? "unknown" : `${Math.round(d.value)} °C`,
      summary: `${d.label} at ${
        d.value === null ? "?" : Math.round(d.value)
      } °C`,
    }));
  },
});
