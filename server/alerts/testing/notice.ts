/** One notice as the engine hands it to delivery, for the channel tests. */
import type { Notice } from "../delivery/message.ts";

/** A pool gone DEGRADED on pve-lab, firing. */
export const POOL_DEGRADED_NOTICE: Notice = {
  kind: "firing",
  rule: "pool_unhealthy",
  state: "firing",
  severity: "crit",
  host: "pve-lab",
  object: "tank",
  object_kind: "pool",
  label: "tank",
  summary: "pool tank is DEGRADED (1 of 3 vdevs not online)",
  value: "DEGRADED",
  started_at: "2026-06-01T12:00:10.000Z",
  resolved_at: null,
  url: "https://monitor.example/hosts/pve-lab",
};
