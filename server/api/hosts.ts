/**
 * Host API: `GET /api/hosts` lists every host with a short summary of its
 * latest fast sample; `GET /api/hosts/:name` gives the newest sample of each
 * interval. Timestamps are ISO-8601 strings.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import { type FastPayload, HostName, INTERVALS } from "@proxmon/shared";
import type { Clock } from "@proxmon/shared/clock";
import {
  guestCounts,
  memUsedBytes,
  poolHealth,
  poolsHealthy,
} from "../host_state.ts";
import type { Database } from "../store/client.ts";
import { findHost, type HostRow, listHosts } from "../store/hosts.ts";
import {
  latestSample,
  latestSamplesByHost,
  type StoredSample,
} from "../store/sample_store.ts";

export interface HostSummary {
  collected_at: string;
  cpu_percent: number | null;
  mem_used_bytes: number | null;
  mem_total_bytes: number | null;
  pools: {
    name: string;
    /** upper case; UNKNOWN when the agent did not report it */
    health: string;
    capacity_percent: number | null;
  }[];
  /**
   * true when no pool shows a problem (host_state.ts): ONLINE, no data
   * errors, not too full, scrubbed within 35 days
   */
  pools_healthy: boolean;
  guests_running: number;
  guests_total: number;
}

const iso = (ms: number | null) =>
  ms === null ? null : new Date(ms).toISOString();

/** The list view's numbers from a host's latest fast sample. */
export function summarizeHost(
  sample: StoredSample<FastPayload>,
  nowMs: number,
): HostSummary {
  const { host, zfs_pools, vms_runtime } = sample.payload;
  const guests = guestCounts(vms_runtime.vms);
  return {
    collected_at: new Date(sample.collectedAtMs).toISOString(),
    cpu_percent: host.cpu_percent,
    mem_used_bytes: memUsedBytes(host),
    mem_total_bytes: host.mem_total_bytes,
    pools: zfs_pools.pools.map((p) => ({
      name: p.name,
      health: poolHealth(p),
      capacity_percent: p.capacity_percent,
    })),
    pools_healthy: poolsHealthy(zfs_pools.pools, nowMs),
    guests_running: guests.running,
    guests_total: guests.total,
  };
}

const hostFields = (h: HostRow) => ({
  name: h.name,
  status: h.status,
  agent_version: h.agentVersion,
  last_seen_at: iso(h.lastSeenAt),
});

const notFound = () =>
  new HTTPException(404, {
    res: Response.json({ error: "host_not_found" }, { status: 404 }),
  });

/** The `/api/hosts` routes; mount with `app.route("/api/hosts", …)`. */
export function createHostsApi(
  { database, clock }: { database: Database; clock: Clock },
): Hono {
  const app = new Hono();

  app.get("/", async (c) => {
    const [hosts, latest] = await Promise.all([
      listHosts(database),
      latestSamplesByHost(database, "fast"),
    ]);
    return c.json({
      hosts: hosts.map((h) => {
        const sample = latest.get(h.id);
        return {
          ...hostFields(h),
          summary: sample ? summarizeHost(sample, clock.now()) : null,
        };
      }),
    });
  });

  app.get("/:name", async (c) => {
    const name = v.safeParse(HostName, c.req.param("name"));
    if (!name.success) throw notFound();
    const host = await findHost(database, name.output);
    if (!host) throw notFound();
    const latest = await Promise.all(
      INTERVALS.map((i) => latestSample(database, host.id, i)),
    );
    const samples = Object.fromEntries(
      INTERVALS.flatMap((interval, i) => {
        const s = latest[i];
        return s
          ? [[interval, {
            collected_at: new Date(s.collectedAtMs).toISOString(),
            payload: s.payload,
          }]]
          : [];
      }),
    );
    return c.json({ ...hostFields(host), samples });
  });

  return app;
}
