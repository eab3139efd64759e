/**
 * Drizzle schema. Timestamps are unix milliseconds in INTEGER columns: they
 * compare and index cheaply, and the API turns them into ISO strings.
 */
import { sql } from "drizzle-orm";
import {
  blob,
  check,
  index,
  integer,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

export const hosts = sqliteTable("hosts", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  /** hex SHA-256 of the agent token; the token itself is never stored */
  tokenHash: text("token_hash").notNull(),
  status: text("status", { enum: ["online", "offline"] }).notNull().default(
    "offline",
  ),
  agentVersion: text("agent_version"),
  lastSeenAt: integer("last_seen_at"),
  createdAt: integer("created_at").notNull(),
});

export const metrics = sqliteTable(
  "metrics",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    hostId: integer("host_id").notNull().references(() => hosts.id, {
      onDelete: "cascade",
    }),
    collectedAt: integer("collected_at").notNull(),
    intervalType: text("interval_type", { enum: ["fast", "medium", "slow"] })
      .notNull(),
    /** the sample's `data`, as JSON text */
    payload: text("payload").notNull(),
    /**
     * A few chartable numbers pulled out of the payload at ingest (see
     * server/summary.ts), so history queries never parse whole payloads.
     */
    summary: text("summary"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("metrics_host_interval_collected_uq").on(
      t.hostId,
      t.intervalType,
      t.collectedAt,
    ),
    index("metrics_collected_at_idx").on(t.collectedAt),
    // Covers history queries: the summary sits after the payload, which
    // spills onto overflow pages, so reading it from the table costs a page
    // chain per row (a 48 h chart took ~60 ms; see BENCHMARKS.md).
    index("metrics_history_idx").on(
      t.hostId,
      t.intervalType,
      t.collectedAt,
      t.summary,
    ),
    check(
      "metrics_interval_type_check",
      sql`${t.intervalType} IN ('fast', 'medium', 'slow')`,
    ),
  ],
);

/** Tokens for scripts that read `/api/*` without a dashboard session. */
export const apiTokens = sqliteTable("api_tokens", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  tokenHash: text("token_hash").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * remote_write's durable queue: one row per stored sample, holding that
 * sample's series as a snappy-compressed remote_write WriteRequest, written
 * in the sample's own transaction. Rows leave when the receiver accepted
 * them or when they are older than REMOTE_WRITE_MAX_AGE_HOURS. No foreign
 * key: a removed host's queued data is still pushed.
 */
export const remoteWriteQueue = sqliteTable(
  "remote_write_queue",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** the sample's collected_at, which is every series' timestamp */
    collectedAt: integer("collected_at").notNull(),
    enqueuedAt: integer("enqueued_at").notNull(),
    /** series in the body */
    samples: integer("samples").notNull(),
    body: blob("body", { mode: "buffer" }).notNull(),
  },
  (t) => [index("remote_write_queue_enqueued_at_idx").on(t.enqueuedAt)],
);

export type HostRow = typeof hosts.$inferSelect;
export type MetricRow = typeof metrics.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
