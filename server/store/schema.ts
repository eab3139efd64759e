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
  primaryKey,
  real,
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

/**
 * The sample store of the first version: one JSON blob per sample. Kept only
 * so a database written by it can be converted at start (legacy_import.ts);
 * nothing writes here any more, and the conversion empties it.
 */
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
     * the first version), so history queries never parsed whole payloads.
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

const hostRef = () =>
  integer("host_id").notNull().references(() => hosts.id, {
    onDelete: "cascade",
  });

/** The newest full payload of each host and interval; pages and the API read it. */
export const latestSamples = sqliteTable("latest_samples", {
  hostId: hostRef(),
  intervalType: text("interval_type", { enum: ["fast", "medium", "slow"] })
    .notNull(),
  collectedAt: integer("collected_at").notNull(),
  /** the sample's `data`, as JSON text */
  payload: text("payload").notNull(),
}, (t) => [primaryKey({ columns: [t.hostId, t.intervalType] })]);

/** One row per series of a host: (kind, object, metric), see series_catalog.ts. */
export const series = sqliteTable("series", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: hostRef(),
  kind: text("kind").notNull(),
  object: text("object").notNull(),
  metric: text("metric").notNull(),
}, (t) => [
  uniqueIndex("series_key_uq").on(t.hostId, t.kind, t.object, t.metric),
]);

/**
 * New samples, one row each, until compaction moves their numbers into
 * blocks. `points` packs (series id, scaled value) pairs (head_codec.ts).
 * The key is what makes replays idempotent. A rowid table (migration
 * 0006): its blobs of a kilobyte or more fit table cells, where WITHOUT
 * ROWID's index cells spilled them to overflow pages.
 */
export const seriesHead = sqliteTable("series_head", {
  hostId: hostRef(),
  intervalType: text("interval_type", { enum: ["fast", "medium", "slow"] })
    .notNull(),
  collectedAt: integer("collected_at").notNull(),
  points: blob("points", { mode: "buffer" }).notNull(),
}, (t) => [primaryKey({ columns: [t.hostId, t.intervalType, t.collectedAt] })]);

/**
 * Compacted series: one row per series, tier and time window. Tier 0 holds
 * raw points, tier 1 one-minute and tier 2 one-hour rollups (min, avg, max,
 * last, count); `data` is a block_codec.ts blob. A rowid table, like
 * series_head.
 */
export const seriesBlocks = sqliteTable("series_blocks", {
  seriesId: integer("series_id").notNull().references(() => series.id, {
    onDelete: "cascade",
  }),
  tier: integer("tier").notNull(),
  startMs: integer("start_ms").notNull(),
  /** the last point's time, inclusive */
  endMs: integer("end_ms").notNull(),
  count: integer("count").notNull(),
  data: blob("data", { mode: "buffer" }).notNull(),
}, (t) => [
  primaryKey({ columns: [t.seriesId, t.tier, t.startMs] }),
  // rollup building and retention look blocks up by tier and time
  index("series_blocks_tier_start_idx").on(t.tier, t.startMs),
]);

/** Non-numeric state, one row each time a value changes. */
export const stateChanges = sqliteTable("state_changes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  hostId: hostRef(),
  at: integer("at").notNull(),
  /** e.g. guest.status, pool.health, host.pve_version */
  kind: text("kind").notNull(),
  /** vmid, pool or storage name; "" for the host itself */
  object: text("object").notNull(),
  /** null when the object disappeared */
  value: text("value"),
  previous: text("previous"),
}, (t) => [
  index("state_changes_host_at_idx").on(t.hostId, t.at),
  index("state_changes_object_idx").on(t.hostId, t.kind, t.object, t.at),
]);

/** Tokens for scripts that read `/api/*` without a dashboard session. */
export const apiTokens = sqliteTable("api_tokens", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  tokenHash: text("token_hash").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * remote_write's durable queue: one row per stored sample, written in the
 * sample's own transaction. Without `shape_id` the body is the sample's
 * series as a snappy-compressed remote_write WriteRequest; with one, it is
 * only their values (float64, little-endian), and the request is that
 * shape's with these values and `collected_at` written in. Rows leave when
 * the receiver accepted them or when they are older than
 * REMOTE_WRITE_MAX_AGE_HOURS. No foreign key: a removed host's queued data
 * is still pushed.
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
    /** the `remote_write_shapes` row the body's values fill in, if any */
    shapeId: integer("shape_id"),
  },
  (t) => [
    index("remote_write_queue_enqueued_at_idx").on(t.enqueuedAt),
    index("remote_write_queue_shape_id_idx").on(t.shapeId),
  ],
);

/**
 * A host's series as remote_write sends them, with the values and the
 * timestamp left to fill in (remote_write/queue_shape.ts): the same for
 * each of its samples until a guest or a label changes. Written (or found)
 * in the transaction of every queue row that uses it; unused ones go.
 */
export const remoteWriteShapes = sqliteTable("remote_write_shapes", {
  id: integer("id").primaryKey(),
  body: blob("body", { mode: "buffer" }).notNull(),
});

/**
 * Dashboard login sessions. The cookie holds a random id; only its SHA-256
 * is kept, so a copy of the database opens no session. Logout deletes the
 * row, `host logout-all` every row; expired rows go at the next login.
 */
export const dashboardSessions = sqliteTable(
  "dashboard_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("dashboard_sessions_expires_at_idx").on(t.expiresAt)],
);

export type HostRow = typeof hosts.$inferSelect;
export type MetricRow = typeof metrics.$inferSelect;
export type SeriesRow = typeof series.$inferSelect;
export type StateChangeRow = typeof stateChanges.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;

// ---- alerts (server/alerts/) -------------------------------------------------

/**
 * One row per rule and object: its current state, and what was last told
 * about it. `object` is "" for host-wide alerts (host_offline, host_cpu), so
 * the unique index also holds for them.
 */
export const alerts = sqliteTable(
  "alerts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    rule: text("rule").notNull(),
    host: text("host").notNull(),
    object: text("object").notNull().default(""),
    /** host | pool | storage | guest | collector | … */
    objectKind: text("object_kind").notNull(),
    /** JSON array of the object's tags (guests), for silences and overrides */
    tags: text("tags").notNull().default("[]"),
    state: text("state", { enum: ["pending", "firing", "resolved"] })
      .notNull(),
    severity: text("severity", { enum: ["warn", "crit"] }).notNull(),
    /** the last measured value (for rules that compare numbers) */
    value: real("value"),
    /** the value as people read it: "92 %", "DEGRADED" */
    shown: text("shown").notNull().default(""),
    summary: text("summary").notNull(),
    /** when the condition was first seen (pending) */
    pendingSince: integer("pending_since"),
    /** when it started firing; null until it does */
    startedAt: integer("started_at"),
    resolvedAt: integer("resolved_at"),
    acknowledgedAt: integer("acknowledged_at"),
    /** firing | resolved | null: the last state a notification went out for */
    notifiedState: text("notified_state"),
    notifiedSeverity: text("notified_severity"),
    lastNotifiedAt: integer("last_notified_at"),
    /** JSON array of recent state-change times (unix ms), for flapping */
    changes: text("changes").notNull().default("[]"),
    flapping: integer("flapping", { mode: "boolean" }).notNull().default(
      false,
    ),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("alerts_rule_host_object_uq").on(t.rule, t.host, t.object),
    index("alerts_state_idx").on(t.state),
  ],
);

/** Every state change of an alert, for the history on the alerts page. */
export const alertEvents = sqliteTable(
  "alert_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    alertId: integer("alert_id").notNull().references(() => alerts.id, {
      onDelete: "cascade",
    }),
    at: integer("at").notNull(),
    /** firing | resolved | acknowledged | escalated */
    event: text("event").notNull(),
    severity: text("severity").notNull(),
    value: text("value"),
    summary: text("summary").notNull(),
  },
  (t) => [index("alert_events_at_idx").on(t.at)],
);

/** A silence stops notifications for matching alerts until `ends_at`. */
export const silences = sqliteTable("silences", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  rule: text("rule"),
  host: text("host"),
  object: text("object"),
  tag: text("tag"),
  comment: text("comment").notNull().default(""),
  createdAt: integer("created_at").notNull(),
  endsAt: integer("ends_at").notNull(),
});

/**
 * The durable delivery queue: one row per notification per channel. Rows
 * sent together share a `batch`; a retry resends the same batch.
 */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    channel: text("channel").notNull(),
    alertId: integer("alert_id").references(() => alerts.id, {
      onDelete: "set null",
    }),
    /** firing | resolved | repeat | test */
    kind: text("kind").notNull(),
    severity: text("severity").notNull(),
    /** the notification (AlertNotice) as JSON */
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** queued | sent | failed | suppressed | digested */
    status: text("status").notNull(),
    batch: integer("batch"),
    lastError: text("last_error"),
    sentAt: integer("sent_at"),
  },
  (t) => [
    index("deliveries_status_idx").on(t.status, t.channel, t.nextAttemptAt),
  ],
);

/** One row per attempt to reach a channel, with the receiver's answer. */
export const deliveryLog = sqliteTable(
  "delivery_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    channel: text("channel").notNull(),
    at: integer("at").notNull(),
    ok: integer("ok", { mode: "boolean" }).notNull(),
    /** how many notifications the message carried */
    count: integer("count").notNull(),
    title: text("title").notNull(),
    /** the receiver's answer (status and a short body) or the error */
    detail: text("detail").notNull(),
  },
  (t) => [index("delivery_log_channel_at_idx").on(t.channel, t.at)],
);

export type AlertRow = typeof alerts.$inferSelect;
export type AlertEventRow = typeof alertEvents.$inferSelect;
export type SilenceRow = typeof silences.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type DeliveryLogRow = typeof deliveryLog.$inferSelect;
