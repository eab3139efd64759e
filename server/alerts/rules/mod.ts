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
import {
  backupFailedRule,
  backupStaleRule,
  guestNotBackedUpRule,
} from "./backup_rules.ts";
import { replicationFailedRule } from "./replication_rules.ts";
import {
  diskTemperatureRule,
  nvmeWearRule,
  smartFailedRule,
  smartSectorsGrowingRule,
} from "./smart_rules.ts";
import { cpuTemperatureRule } from "./temperature_rules.ts";

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
  // issue 17: backups, replication, disk health, temperatures
  backupFailedRule,
  backupStaleRule,
  guestNotBackedUpRule,
  replicationFailedRule,
  smartFailedRule,
  smartSectorsGrowingRule,
  nvmeWearRule,
  diskTemperatureRule,
  cpuTemperatureRule,
];

export type { RuleDef } from "./rule.ts";
