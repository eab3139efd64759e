/**
 * A database for the `/metrics` benchmark: N hosts, each with the latest
 * fast, medium and slow samples of a node running G guests, built from the
 * repository's sample fixtures through the server's own store functions,
 * plus an API token for the scrape.
 */
import type { FastPayload, GuestRuntime } from "@proxmon/shared";
import { createApiToken } from "../../server/auth/api_tokens.ts";
import { openDatabase } from "../../server/store/client.ts";
import { createHost } from "../../server/store/hosts.ts";
import { recordSamples } from "../../server/store/sample_store.ts";
import { loadPayload } from "./sample_fixtures.ts";

export interface MetricsFleet {
  token: string;
  hosts: number;
  guests: number;
  /** the first host's agent credentials and its fast payload */
  agent: { host: { name: string; token: string }; fast: FastPayload };
}

/** A fast payload with `guests` guests, cycling through the fixture's. */
export function fastWithGuests(
  base: FastPayload,
  guests: number,
  seed: number,
): FastPayload {
  const templates = base.vms_runtime.vms.filter((g) => !g.template);
  const vms: GuestRuntime[] = Array.from({ length: guests }, (_, i) => {
    const t = templates[i % templates.length];
    return {
      ...t,
      vmid: 100 + i,
      name: `guest-${String(i).padStart(3, "0")}`,
      status: "running",
      cpu_usage: ((seed * 31 + i * 17) % 100) / 100,
    };
  });
  return {
    ...base,
    host: { ...base.host, cpu_percent: (seed * 7) % 100 },
    vms_runtime: { ...base.vms_runtime, vms },
  };
}

/** Writes the fleet into a new database file at `path`. */
export async function buildMetricsFleet(
  path: string,
  spec: { hosts: number; guests: number; nowMs: number },
): Promise<MetricsFleet> {
  const database = await openDatabase(`file:${path}`);
  try {
    const fast = await loadPayload("fast");
    const medium = await loadPayload("medium");
    const slow = await loadPayload("slow");
    let agent: MetricsFleet["agent"] | null = null;
    for (let h = 0; h < spec.hosts; h++) {
      const name = `pve-${String(h + 1).padStart(3, "0")}`;
      const { host, token: agentToken } = await createHost(
        database,
        name,
        spec.nowMs,
      );
      agent ??= {
        host: { name, token: agentToken },
        fast: fastWithGuests(fast, spec.guests, h),
      };
      const at = spec.nowMs - 5_000;
      await recordSamples(database, [
        // A few older rows, so the latest-sample read has history to skip.
        ...[60, 50, 40, 30, 20, 10].map((back) => ({
          hostId: host.id,
          interval: "fast" as const,
          collectedAtMs: at - back * 1000,
          data: fastWithGuests(fast, spec.guests, h + back),
        })),
        {
          hostId: host.id,
          interval: "fast",
          collectedAtMs: at,
          data: fastWithGuests(fast, spec.guests, h),
        },
        {
          hostId: host.id,
          interval: "medium",
          collectedAtMs: at,
          data: medium,
        },
        { hostId: host.id, interval: "slow", collectedAtMs: at, data: slow },
      ], spec.nowMs);
    }
    const token = await createApiToken(database, "bench", spec.nowMs);
    return { token, hosts: spec.hosts, guests: spec.guests, agent: agent! };
  } finally {
    database.close();
  }
}
