/**
 * `deno task alerts …`, the alerting CLI. It reads DATABASE_URL and
 * ALERTS_FILE like the server; a running server picks up acks and silences
 * made here within one tick (5 s).
 *
 *   alerts list                      active alerts (id, state, severity, …)
 *   alerts ack ID                    acknowledge a firing alert: no repeats
 *   alerts silence [--rule R] [--host H] [--object O] [--tag T]
 *                  --for 2h [--comment TEXT]
 *   alerts silences                  live silences
 *   alerts unsilence ID              end a silence now
 *   alerts test CHANNEL              send a test message, print the answer
 *
 * Bad input prints one line on stderr and exits 1.
 */
import { parseArgs } from "node:util";
import { systemClock } from "@proxmon/shared/clock";
import { resolveServerConfig } from "../config.ts";
import { type Database, openDatabase } from "../store/client.ts";
import { AlertsConfigError } from "./alerts_config.ts";
import { loadAlertsConfig } from "./alerts_file.ts";
import { endSilence, insertSilence, loadSilences } from "./alert_store.ts";
import { sendMessage } from "./channels/mod.ts";
import { buildMessage, hostUrl } from "./delivery/message.ts";
import { parseDuration } from "./duration.ts";

const USAGE =
  "usage: deno task alerts list | ack ID | silence [--rule R] [--host H] [--object O] [--tag T] --for DURATION [--comment TEXT] | silences | unsilence ID | test CHANNEL";

class UsageError extends Error {}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const iso = (ms: unknown) =>
  ms === null || ms === undefined ? "-" : new Date(Number(ms)).toISOString();

function id(arg: string | undefined, what: string): number {
  const n = Number(arg);
  if (arg === undefined || !/^\d+$/.test(arg) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${what} needs a numeric ID`);
  }
  return n;
}

async function list(db: Database, io: CliIo, now: number) {
  const silences = await loadSilences(db, now);
  const rs = await db.client.execute(
    `SELECT * FROM alerts WHERE state != 'resolved' ORDER BY state = 'firing' DESC, severity = 'crit' DESC, id`,
  );
  if (rs.rows.length === 0) return io.out("no active alerts");
  for (const r of rs.rows) {
    const tags: string[] = JSON.parse(String(r.tags));
    const silenced = silences.some((s) =>
      (s.rule === null || s.rule === r.rule) &&
      (s.host === null || s.host === r.host) &&
      (s.object === null || s.object === r.object) &&
      (s.tag === null || tags.includes(s.tag))
    );
    const state = r.state !== "firing"
      ? String(r.state)
      : silenced
      ? "silenced"
      : r.acknowledged_at !== null
      ? "acknowledged"
      : "firing";
    const where = r.object === "" ? String(r.host) : `${r.host}/${r.object}`;
    io.out(
      `${r.id}\t${state}\t${r.severity}\t${r.rule}\t${where}\tsince ${
        iso(r.started_at ?? r.pending_since)
      }\t${r.summary}`,
    );
  }
}

async function ack(db: Database, io: CliIo, alertId: number, now: number) {
  const rs = await db.client.batch([
    {
      sql: `UPDATE alerts SET acknowledged_at = ?, updated_at = ?
        WHERE id = ? AND state = 'firing' AND acknowledged_at IS NULL`,
      args: [now, now, alertId],
    },
    {
      sql:
        `INSERT INTO alert_events (alert_id, at, event, severity, value, summary)
        SELECT id, ?, 'acknowledged', severity, shown, summary FROM alerts
        WHERE id = ? AND changes() > 0`,
      args: [now, alertId],
    },
    {
      sql: `SELECT state, acknowledged_at FROM alerts WHERE id = ?`,
      args: [alertId],
    },
  ], "write");
  const row = rs[2].rows[0];
  if (row === undefined) throw new UsageError(`no alert with ID ${alertId}`);
  if (row.state !== "firing") {
    throw new UsageError(`alert ${alertId} is ${row.state}, not firing`);
  }
  io.out(`acknowledged alert ${alertId} (no repeats until it resolves)`);
}

async function test(
  channelName: string | undefined,
  io: CliIo,
  db: Database,
  alertsFile: string,
  now: number,
) {
  if (!channelName) throw new UsageError("test needs a CHANNEL name");
  const config = await loadAlertsConfig(alertsFile);
  const channel = config.channels.find((c) => c.name === channelName);
  if (channel === undefined) {
    const names = config.channels.map((c) => c.name).join(", ") || "none";
    throw new UsageError(
      `no channel named "${channelName}" in ${alertsFile} (channels: ${names})`,
    );
  }
  const message = buildMessage(
    [{
      kind: "test",
      rule: "test",
      state: "firing",
      severity: "warn",
      host: "proxmon",
      object: null,
      object_kind: "host",
      label: null,
      summary: `test message from proxmon to channel ${channel.name}`,
      value: "test",
      started_at: new Date(now).toISOString(),
      resolved_at: null,
      url: hostUrl(config.publicUrl, "proxmon").replace(
        /\/hosts\/proxmon$/,
        "/alerts",
      ),
    }],
    0,
    config.publicUrl,
  );
  const answer = await sendMessage(channel, message, config.sendTimeoutMs);
  await db.client.execute({
    sql:
      `INSERT INTO delivery_log (channel, at, ok, count, title, detail) VALUES (?, ?, ?, 1, ?, ?)`,
    args: [
      channel.name,
      systemClock.now(),
      answer.ok ? 1 : 0,
      message.title,
      answer.detail,
    ],
  });
  const line = `${channel.name} (${channel.type}): ${
    answer.ok ? "delivered" : "FAILED"
  }: ${answer.detail}`;
  if (!answer.ok) throw new UsageError(line);
  io.out(line);
}

/** Runs one CLI command; returns the exit code. */
export async function runAlertsCli(
  args: string[],
  env: Record<string, string | undefined>,
  io: CliIo = { out: console.log, err: console.error },
): Promise<number> {
  const resolved = resolveServerConfig(env);
  if (!resolved.ok) {
    io.err(`proxmon alerts: ${resolved.error}`);
    return 1;
  }
  const [command, ...rest] = args;
  let db: Database | null = null;
  try {
    if (
      !["list", "ack", "silence", "silences", "unsilence", "test"].includes(
        command ?? "",
      )
    ) {
      throw new UsageError(USAGE);
    }
    db = await openDatabase(resolved.config.databaseUrl, {
      authToken: resolved.config.databaseAuthToken ?? undefined,
    });
    const now = systemClock.now();
    switch (command) {
      case "list":
        await list(db, io, now);
        break;
      case "ack":
        await ack(db, io, id(rest[0], "ack"), now);
        break;
      case "silence": {
        const { values } = parseArgs({
          args: rest,
          options: {
            rule: { type: "string" },
            host: { type: "string" },
            object: { type: "string" },
            tag: { type: "string" },
            for: { type: "string" },
            comment: { type: "string" },
          },
          strict: true,
          allowPositionals: false,
        });
        const ms = parseDuration(values.for ?? "");
        if (ms === null || ms <= 0) {
          throw new UsageError("silence needs --for DURATION, e.g. --for 2h");
        }
        if (!values.rule && !values.host && !values.object && !values.tag) {
          throw new UsageError(
            "silence needs at least one of --rule, --host, --object, --tag",
          );
        }
        const s = await insertSilence(db, {
          rule: values.rule ?? null,
          host: values.host ?? null,
          object: values.object ?? null,
          tag: values.tag ?? null,
          comment: values.comment ?? "",
          endsAt: now + ms,
        }, now);
        io.out(`silence ${s.id} until ${iso(s.endsAt)}`);
        break;
      }
      case "silences": {
        const all = await loadSilences(db, now);
        if (all.length === 0) io.out("no silences");
        for (const s of all) {
          io.out(
            `${s.id}\tuntil ${iso(s.endsAt)}\trule=${s.rule ?? "*"} host=${
              s.host ?? "*"
            } object=${s.object ?? "*"} tag=${s.tag ?? "*"}\t${s.comment}`,
          );
        }
        break;
      }
      case "unsilence": {
        const sid = id(rest[0], "unsilence");
        if (!await endSilence(db, sid, now)) {
          throw new UsageError(`no live silence with ID ${sid}`);
        }
        io.out(`silence ${sid} ended`);
        break;
      }
      case "test":
        await test(rest[0], io, db, resolved.config.alertsFile, now);
        break;
    }
    return 0;
  } catch (err) {
    if (
      err instanceof UsageError || err instanceof AlertsConfigError ||
      (err instanceof TypeError && "code" in err &&
        String(err.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      io.err(`proxmon alerts: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    db?.close();
  }
}

if (import.meta.main) {
  Deno.exit(await runAlertsCli(Deno.args, Deno.env.toObject()));
}
