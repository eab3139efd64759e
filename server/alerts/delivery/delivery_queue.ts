/**
 * The durable delivery queue: notifications wait in the `deliveries` table
 * until their channel takes them, so a restart loses nothing. Per channel:
 * - the first notification goes out at once; those that come within the
 *   group window after a send wait for its end and go out as one message;
 * - after `cap_per_hour` messages in an hour the rest are suppressed, and
 *   one "N more suppressed" digest goes out once the hour allows;
 * - a failed send is retried with exponential backoff (retry_initial,
 *   doubling, at most retry_max_interval apart) for up to retry_for, then
 *   given up; every attempt is written to `delivery_log`.
 */
import type { Row } from "@libsql/client";
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { Database } from "../../store/client.ts";
import type { Logger } from "@proxmon/shared/logger";
import type { AlertsConfig, ChannelConfig } from "../alerts_config.ts";
import type { Answer } from "../channels/channel.ts";
import { buildMessage, type Message, type Notice } from "./message.ts";

export type SendFn = (
  channel: ChannelConfig,
  message: Message,
) => Promise<Answer>;

export interface DeliveryQueueDeps {
  database: Database;
  clock: Clock;
  log: Logger;
  config: AlertsConfig;
  send: SendFn;
}

export interface ChannelStatus {
  name: string;
  type: string;
  queued: number;
  failed: number;
  suppressed: number;
  last: { at: number; ok: boolean; detail: string; title: string } | null;
  lastFailure: { at: number; detail: string } | null;
}

export interface DeliveryQueue {
  /** Loads each channel's recent sends and starts working. */
  start(): Promise<void>;
  /** Something was queued: look now. */
  kick(): void;
  /** Resolves once no channel is working and nothing is due now. */
  idle(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<ChannelStatus[]>;
}

const HOUR = 3_600_000;
const BATCH_LIMIT = 200;

interface ChannelRun {
  sentTimes: number[];
  windowEnd: number;
  running: Promise<void> | null;
  again: boolean;
}

/** The delay before attempt `n + 1` after `n` failed ones. */
export function backoffMs(
  attempts: number,
  initialMs: number,
  maxMs: number,
): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempts - 1));
}

export function createDeliveryQueue(deps: DeliveryQueueDeps): DeliveryQueue {
  const { database: { client }, clock, log, config } = deps;
  const runs = new Map<string, ChannelRun>();
  let timer: TimerId | undefined;
  let timerAt = Infinity;
  let stopped = false;

  const live = () => config.channels.filter((c) => c.enabled);

  function wakeAt(t: number) {
    if (stopped || t >= timerAt) return;
    clock.clearTimeout(timer);
    timerAt = t;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      kickAll();
    }, Math.max(0, t - clock.now()));
  }

  function kickAll() {
    for (const c of live()) kickChannel(c);
  }

  function kickChannel(c: ChannelConfig) {
    const run = runs.get(c.name)!;
    if (stopped) return;
    if (run.running) {
      run.again = true;
      return;
    }
    run.running = work(c, run).catch((err) => {
      log.error(`alerts: delivery on channel ${c.name} failed:`, err);
    }).finally(() => {
      run.running = null;
      if (run.again) {
        run.again = false;
        kickChannel(c);
      }
    });
  }

  async function attempt(
    c: ChannelConfig,
    run: ChannelRun,
    rows: Row[],
    batch: number,
  ) {
    const notices: Notice[] = [];
    let suppressed = 0;
    for (const r of rows) {
      if (String(r.kind) === "digest") {
        suppressed += Number(JSON.parse(String(r.body)).suppressed);
      } else notices.push(JSON.parse(String(r.body)));
    }
    const message = buildMessage(notices, suppressed, config.publicUrl);
    const answer = await deps.send(c, message);
    const now = clock.now();
    const attempts = Number(rows[0].attempts) + 1;
    const oldest = Math.min(...rows.map((r) => Number(r.created_at)));
    const givingUp = !answer.ok && now - oldest >= config.retry.forMs;
    const next = now +
      backoffMs(attempts, config.retry.initialMs, config.retry.maxIntervalMs);
    await client.batch([
      {
        sql:
          `INSERT INTO delivery_log (channel, at, ok, count, title, detail) VALUES (?, ?, ?, ?, ?, ?)`,
        args: [
          c.name,
          now,
          answer.ok ? 1 : 0,
          notices.length + suppressed,
          message.title,
          answer.detail,
        ],
      },
      answer.ok
        ? {
          sql:
            `UPDATE deliveries SET status = 'sent', sent_at = ?, attempts = ?, last_error = NULL
            WHERE channel = ? AND batch = ? AND status = 'queued'`,
          args: [now, attempts, c.name, batch],
        }
        : {
          sql:
            `UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?
            WHERE channel = ? AND batch = ? AND status = 'queued'`,
          args: [
            givingUp ? "failed" : "queued",
            attempts,
            next,
            answer.detail,
            c.name,
            batch,
          ],
        },
    ], "write");
    if (answer.ok) run.sentTimes.push(now);
    else {
      log.warn(
        `alerts: channel ${c.name}: ${answer.detail} (${
          givingUp
            ? "giving up"
            : `attempt ${attempts}, retrying in ${
              Math.round((next - now) / 1000)
            } s`
        })`,
      );
    }
  }

  async function work(c: ChannelConfig, run: ChannelRun) {
    for (;;) {
      if (stopped) return;
      const now = clock.now();
      run.sentTimes = run.sentTimes.filter((t) => t > now - HOUR);
      const room = run.sentTimes.length < c.cap_per_hour;
      if (room && now >= run.windowEnd) {
        // Turn what the cap held back into one digest notice.
        const held = await client.execute({
          sql:
            `SELECT COUNT(*) AS n FROM deliveries WHERE channel = ? AND status = 'suppressed'`,
          args: [c.name],
        });
        const n = Number(held.rows[0].n);
        if (n > 0) {
          await client.batch([
            {
              sql:
                `UPDATE deliveries SET status = 'digested' WHERE channel = ? AND status = 'suppressed'`,
              args: [c.name],
            },
            {
              sql:
                `INSERT INTO deliveries (channel, kind, severity, body, created_at, next_attempt_at, attempts, status)
                VALUES (?, 'digest', 'warn', ?, ?, ?, 0, 'queued')`,
              args: [c.name, JSON.stringify({ suppressed: n }), now, now],
            },
          ], "write");
        }
      }
      const due = await client.execute({
        sql: `SELECT id, kind, body, batch, attempts, created_at FROM deliveries
          WHERE channel = ? AND status = 'queued' AND next_attempt_at <= ?
          ORDER BY id LIMIT ?`,
        args: [c.name, now, BATCH_LIMIT],
      });
      const retry = due.rows.find((r) => r.batch !== null);
      if (retry !== undefined) {
        const batch = Number(retry.batch);
        const rows = await client.execute({
          sql:
            `SELECT id, kind, body, batch, attempts, created_at FROM deliveries
            WHERE channel = ? AND status = 'queued' AND batch = ? ORDER BY id`,
          args: [c.name, batch],
        });
        await attempt(c, run, rows.rows, batch);
        continue;
      }
      const fresh = due.rows;
      if (fresh.length > 0) {
        if (now < run.windowEnd) {
          wakeAt(run.windowEnd);
        } else if (!room) {
          const ids = fresh.filter((r) => String(r.kind) !== "digest").map((
            r,
          ) => Number(r.id));
          await client.execute({
            sql: `UPDATE deliveries SET status = 'suppressed' WHERE id IN (${
              ids.map(() => "?").join(",")
            })`,
            args: ids,
          });
          wakeAt(run.sentTimes[0] + HOUR);
          continue;
        } else {
          const batch = Number(fresh[0].id);
          const ids = fresh.map((r) => Number(r.id));
          await client.execute({
            sql: `UPDATE deliveries SET batch = ? WHERE id IN (${
              ids.map(() => "?").join(",")
            })`,
            args: [batch, ...ids],
          });
          run.windowEnd = now + c.group_window;
          await attempt(c, run, fresh, batch);
          continue;
        }
      }
      const next = await client.execute({
        sql:
          `SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE channel = ? AND status = 'queued'`,
        args: [c.name],
      });
      const t = next.rows[0].t;
      if (t !== null) wakeAt(Math.max(Number(t), run.windowEnd));
      const held = await client.execute({
        sql:
          `SELECT 1 FROM deliveries WHERE channel = ? AND status = 'suppressed' LIMIT 1`,
        args: [c.name],
      });
      if (held.rows.length > 0) {
        wakeAt(Math.max(run.windowEnd, room ? now : run.sentTimes[0] + HOUR));
      }
      return;
    }
  }

  return {
    async start() {
      const now = clock.now();
      for (const c of live()) {
        const rs = await client.execute({
          sql:
            `SELECT at FROM delivery_log WHERE channel = ? AND ok = 1 AND at > ? ORDER BY at`,
          args: [c.name, now - HOUR],
        });
        const sentTimes = rs.rows.map((r) => Number(r.at));
        runs.set(c.name, {
          sentTimes,
          windowEnd: (sentTimes.at(-1) ?? -Infinity) + c.group_window,
          running: null,
          again: false,
        });
      }
      kickAll();
    },
    kick: () => {
      if (!stopped) kickAll();
    },
    async idle() {
      for (;;) {
        const busy = [...runs.values()].map((r) => r.running).filter((p) =>
          p !== null
        );
        if (busy.length === 0) return;
        await Promise.all(busy);
      }
    },
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      await Promise.all([...runs.values()].map((r) => r.running));
    },
    async status() {
      const rs = await client.execute(
        `SELECT channel, status, COUNT(*) AS n FROM deliveries
          WHERE status IN ('queued', 'failed', 'suppressed') GROUP BY channel, status`,
      );
      const counts = new Map<string, number>();
      for (const r of rs.rows) {
        counts.set(`${r.channel}\0${r.status}`, Number(r.n));
      }
      const out: ChannelStatus[] = [];
      for (const c of config.channels) {
        const last = await client.execute({
          sql:
            `SELECT at, ok, detail, title FROM delivery_log WHERE channel = ? ORDER BY id DESC LIMIT 1`,
          args: [c.name],
        });
        const fail = await client.execute({
          sql:
            `SELECT at, detail FROM delivery_log WHERE channel = ? AND ok = 0 ORDER BY id DESC LIMIT 1`,
          args: [c.name],
        });
        const l = last.rows[0];
        const f = fail.rows[0];
        out.push({
          name: c.name,
          type: c.type,
          queued: counts.get(`${c.name}\0queued`) ?? 0,
          failed: counts.get(`${c.name}\0failed`) ?? 0,
          suppressed: counts.get(`${c.name}\0suppressed`) ?? 0,
          last: l === undefined ? null : {
            at: Number(l.at),
            ok: Number(l.ok) === 1,
            detail: String(l.detail),
            title: String(l.title),
          },
          lastFailure: f === undefined
            ? null
            : { at: Number(f.at), detail: String(f.detail) },
        });
      }
      return out;
    },
  };
}
