/**
 * The built-in rules, on by default. Adding a rule: write one file in this
 * folder exporting a `RuleDef` (see rule.ts) and list it here.
 */
import { collectorFailing } from "./collector_failing.ts";
import { guestDown } from "./guest_down.ts";
import { hostCpu } from "./host_cpu.ts";
import { hostMemory } from "./host_memory.ts";
import { hostOffline } from "./host_offline.ts";
import { poolCapacity } from "./pool_capacity.ts";
import { poolFullForecast } from "./pool_full_forecast.ts";
import { poolUnhealthy } from "./pool_unhealthy.ts";
import type { RuleDef } from "./rule.ts";
import { scrubOverdue } from "./scrub_overdue.ts";
import { storageCapacity } from "./storage_capacity.ts";
import { vdevErrors } from "./vdev_errors.ts";

export const BUILTIN_RULES: readonly RuleDef[] = [
  hostOffline,
  poolUnhealthy,
  vdevErrors,
  poolCapacity,
  storageCapacity,
  scrubOverdue,
  poolFullForecast,
  guestDown,
  hostCpu,
  hostMemory,
  collectorFailing,
];

export type { RuleDef } from "./rule.ts";
