/**
 * The series `/metrics` serves: for each host its up state and sample
 * times, then the series of its latest payloads through the one mapping.
 */
import type { HostSnapshot } from "../web/host_overview.ts";
import {
  type Emit,
  emitPayloadSeries,
  FAMILIES,
  type MappingOptions,
} from "./metric_families.ts";

const seconds = (ms: number) => ms / 1000;

/** Hands every series of the fleet's latest state to `emit`. */
export function emitFleetSeries(
  fleet: HostSnapshot[],
  opts: MappingOptions,
  emit: Emit,
): void {
  for (const snap of fleet) {
    const host = snap.host.name;
    const hl = { host };
    emit(FAMILIES.hostUp, hl, snap.host.status === "online" ? 1 : 0);
    if (snap.host.lastSeenAt !== null) {
      emit(FAMILIES.hostLastSeen, hl, seconds(snap.host.lastSeenAt));
    }
    for (const interval of ["fast", "medium", "slow"] as const) {
      const s = snap[interval];
      if (s === null) continue;
      emit(
        FAMILIES.hostSampleTime,
        { host, interval },
        seconds(s.collectedAtMs),
      );
    }
    if (snap.fast) {
      emitPayloadSeries(host, "fast", snap.fast.payload, opts, emit);
    }
    if (snap.medium) {
      emitPayloadSeries(host, "medium", snap.medium.payload, opts, emit);
    }
    if (snap.slow) {
      emitPayloadSeries(host, "slow", snap.slow.payload, opts, emit);
    }
  }
}
