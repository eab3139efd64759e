/**
 * An alert engine on a real, migrated SQLite file with a fake clock, plus
 * payload builders, for engine and channel tests.
 */
import type { FastPayload, ZfsPool } from "@proxmon/shared";
import { type FakeClock, fakeClock } from "@proxmon/shared/fake_clock";
import { type MemoryLogger, memoryLogger } from "@proxmon/shared/logger";
import { openTempDatabase, type TempDatabase } from "../../testing/temp_db.ts";
import { sampleFixture } from "../../testing/samples.ts";
import { resolveAlertsConfig } from "../alerts_config.ts";
import { type AlertEngine, createAlertEngine } from "../engine.ts";
import { BUILTIN_RULES } from "../rules/mod.ts";

export interface Harness extends AsyncDisposable {
  engine: AlertEngine;
  clock: FakeClock;
  db: TempDatabase;
  log: MemoryLogger;
  /** A new engine on the same database, as after a restart. */
  restart(toml?: string): Promise<AlertEngine>;
}

export const T0 = Date.UTC(2026, 5, 1, 12);

export async function startHarness(
  toml: string,
  opts: { startMs?: number; tickMs?: number } = {},
): Promise<Harness> {
  const db = await openTempDatabase();
  const clock = fakeClock(opts.startMs ?? T0);
  const log = memoryLogger();
  const make = async (text: string) => {
    const engine = createAlertEngine({
      database: db.database,
      clock,
      log,
      config: resolveAlertsConfig(text, "alerts.toml", BUILTIN_RULES),
      tickMs: opts.tickMs ?? 5000,
    });
    await engine.start();
    return engine;
  };
  const h: Harness = {
    engine: await make(toml),
    clock,
    db,
    log,
    async restart(text = toml) {
      await h.engine.stop();
      h.engine = await make(text);
      return h.engine;
    },
    async [Symbol.asyncDispose]() {
      await h.engine.stop();
      await db[Symbol.asyncDispose]();
    },
  };
  return h;
}

/** The fast fixture with its pools replaced (and everything else healthy). */
export async function fastWith(
  pools: Partial<ZfsPool>[],
  edit: (p: FastPayload) => void = () => {},
): Promise<FastPayload> {
  const fast = await sampleFixture("fast");
  const base = fast.zfs_pools.pools[0];
  fast.zfs_pools.pools = pools.map((p) => ({ ...base, ...p }));
  edit(fast);
  return fast;
}

/** Feeds one sample, lets the engine store and send, and waits for both. */
export async function feed(
  h: Harness,
  host: string,
  atMs: number,
  data: FastPayload,
): Promise<void> {
  h.engine.observe(host, atMs, { interval: "fast", data });
  await h.engine.flush();
  await h.engine.queue.idle();
}

/** Rows of a table, for asserting on what was stored. */
export async function rows(h: Harness, sql: string) {
  return (await h.db.database.client.execute(sql)).rows;
}

/** alerts.toml lines that turn off every built-in rule but `keep`. */
export function onlyRules(...keep: string[]): string {
  return BUILTIN_RULES.filter((r) => !keep.includes(r.id))
    .map((r) => `[[rule]]\nid = "${r.id}"\nenabled = false\n`).join("\n");
}
