/**
 * guest_down: a guest that was running is stopped, and no backup, migration
 * or snapshot holds its lock (those stop guests on purpose). Templates never
 * run. Opt a guest out with an override (`guest = "101"`, `tag = "lab"`,
 * `enabled = false`).
 */
import { defineRule } from "./rule.ts";

/** PVE locks under which a guest is stopped on purpose. */
const EXPECTED_STOP_LOCKS = new Set([
  "backup",
  "migrate",
  "snapshot",
  "snapshot-delete",
  "rollback",
  "clone",
  "create",
  "suspending",
  "suspended",
]);

type Seen = "running" | "down" | "stopped";

export const guestDown = defineRule({
  id: "guest_down",
  description:
    "a guest that was running is stopped (not by a backup or migration lock)",
  intervals: ["fast"],
  compare: "condition",
  defaults: {},
  evaluate(sample, ctx) {
    const runtime = sample.section("vms_runtime");
    if (runtime === null) return null;
    return runtime.vms.filter((vm) => !vm.template).map((vm) => {
      const id = String(vm.vmid);
      const lock = vm.lock;
      let seen = ctx.memory.get(id) as Seen | undefined;
      if (seen === undefined) {
        seen = ctx.previous(id)?.state === "firing" ? "down" : "stopped";
      }
      if (vm.status === "running") seen = "running";
      else if (seen === "running" && vm.status === "stopped") {
        seen = typeof lock === "string" && EXPECTED_STOP_LOCKS.has(lock)
          ? "stopped"
          : "down";
      }
      ctx.memory.set(id, seen);
      const label = vm.name ? `${vm.name} (${vm.vmid})` : String(vm.vmid);
      return {
        kind: "guest",
        object: id,
        label,
        name: vm.name ?? undefined,
        tags: vm.tags,
        value: seen === "down" ? 1 : 0,
        shown: vm.status ?? "unknown",
        level: seen === "down" ? "warn" : null,
        summary: `${vm.type === "lxc" ? "container" : "VM"} ${label} is ${
          vm.status ?? "in an unknown state"
        }`,
      };
    });
  },
});
