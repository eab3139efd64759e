/**
 * proxmon-agent: parse the command line, resolve the config, wire the
 * collectors, reporter, outbox and connection together, and map failures to
 * one line on stderr and a non-zero exit code.
 */
import { createCheckpoint } from "./checkpoint.ts";
import { type CliArgs, CliArgsError, parseCliArgs, USAGE } from "./cli.ts";
import { systemClock } from "@proxmon/shared/clock";
import { createCollectors } from "./collectors/mod.ts";
import {
  AGENT_DEFAULTS,
  type AgentConfig,
  AgentConfigError,
  resolveAgentConfig,
} from "./config.ts";
import { createConnection } from "./connection.ts";
import { deadLetterPath, DeadLetters } from "./dead_letter.ts";
import { denoRunner } from "./deno_runner.ts";
import { type Logger, stderrLogger } from "@proxmon/shared/logger";
import { withTimeout } from "@proxmon/shared/timeout";
import { Outbox } from "./outbox.ts";
import { OutboxFile, OutboxFileError } from "./outbox_file.ts";
import { createSourceLedger, type SourceLedger } from "./source_ledger.ts";
import { pveApiClient, pveApiCycles } from "./collectors/pve/pve_api.ts";
import { createReporter } from "./reporter.ts";
import { processHeapTrim } from "./heap_trim.ts";
import { AGENT_VERSION } from "./version.ts";

/** A reason not to start, already phrased for the admin. */
class StartupError extends Error {
  override name = "StartupError";
}

/** `--once` found no working PVE or ZFS command: a broken install. */
export const EXIT_NO_PVE_DATA = 3;

// How long a shutdown waits for running cycles, so their samples are saved
// too; well inside systemd's default 90 s stop timeout.
const SHUTDOWN_GRACE_MS = 5_000;
// While samples wait for the server, a crash loses at most this much.
const CHECKPOINT_MS = 30_000;

/** The settings `--once` needs; all of them when a config file exists. */
type CollectionSettings = Pick<
  AgentConfig,
  | "node"
  | "procDir"
  | "cgroupDir"
  | "pveDir"
  | "pveApi"
  | "commandTimeoutMs"
  | "concurrency"
  | "smartIntervalMs"
>;

async function readConfig(
  cli: CliArgs,
  log: Logger,
): Promise<AgentConfig | undefined> {
  const path = cli.configPath ?? AGENT_DEFAULTS.configPath;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new StartupError(
        `${path}: permission denied; run the agent as root or fix the file's owner`,
      );
    }
    throw err;
  }
  const { config, warnings } = resolveAgentConfig(text, path, {
    hostname: Deno.hostname(),
  });
  for (const warning of warnings) log.warn(warning);
  return {
    ...config,
    node: cli.node ?? config.node,
    procDir: cli.procDir ?? config.procDir,
  };
}

async function createAgentCollectors(
  settings: CollectionSettings,
  log: Logger,
  ledger?: SourceLedger,
  once = false,
) {
  const runner = ledger ? ledger.wrap(denoRunner) : denoRunner;
  return createCollectors({
    runner,
    warn: (message) => log.warn(message),
    procDir: settings.procDir,
    cgroupDir: settings.cgroupDir,
    pveDir: settings.pveDir,
    node: settings.node,
    agentVersion: AGENT_VERSION,
    commandTimeoutMs: settings.commandTimeoutMs,
    concurrency: settings.concurrency,
    smartEveryMs: settings.smartIntervalMs,
    // one cycle to show everything: every guest agent is asked
    guestAgentPerCycle: once ? Infinity : undefined,
    pveCycle: settings.pveApi
      ? await apiCycles(settings, settings.pveApi, ledger)
      : undefined,
  });
}

/** The API source of `[pve]`; a CA file it cannot read stops the start. */
async function apiCycles(
  settings: CollectionSettings,
  api: NonNullable<AgentConfig["pveApi"]>,
  ledger?: SourceLedger,
) {
  let caPem: string;
  try {
    caPem = await Deno.readTextFile(api.caFile);
  } catch (err) {
    throw new StartupError(
      `${api.caFile}: cannot read the PVE CA certificate for [pve] api_token ` +
        `(${(err as Error).message}); set [pve] ca_file`,
    );
  }
  return pveApiCycles(
    {
      url: api.url,
      token: api.token,
      timeoutMs: settings.commandTimeoutMs,
      client: pveApiClient(caPem),
    },
    ledger ? (failure) => ledger.record("pve-api", failure) : undefined,
  );
}

async function runOnce(cli: CliArgs, log: Logger): Promise<number> {
  const path = cli.configPath ?? AGENT_DEFAULTS.configPath;
  let settings: CollectionSettings | undefined = await readConfig(cli, log);
  if (!settings) {
    if (cli.configPath !== undefined || cli.node === undefined) {
      throw new StartupError(
        `${path}: not found; pass --config PATH, or --node NAME to run --once without a config file`,
      );
    }
    settings = {
      node: cli.node,
      procDir: cli.procDir ?? AGENT_DEFAULTS.procDir,
      cgroupDir: AGENT_DEFAULTS.cgroupDir,
      pveDir: AGENT_DEFAULTS.pveDir,
      pveApi: null,
      commandTimeoutMs: AGENT_DEFAULTS.commandTimeoutSeconds * 1000,
      concurrency: AGENT_DEFAULTS.concurrency,
      smartIntervalMs: AGENT_DEFAULTS.smartSeconds * 1000,
    };
  }
  const ledger = createSourceLedger();
  const collectors = await createAgentCollectors(settings, log, ledger, true);
  const nowMs = Date.now();
  const [fast, medium, slow] = await Promise.all([
    collectors.fast(nowMs),
    collectors.medium(nowMs),
    collectors.slow(nowMs),
  ]);
  console.log(JSON.stringify({ fast, medium, slow }, null, 2));
  if (!ledger.pveOrZfsAnswered()) {
    log.error(
      `${ledger.summary()}; no PVE or ZFS command produced data ` +
        "(is this a Proxmox VE node, and is the agent running as root?)",
    );
    return EXIT_NO_PVE_DATA;
  }
  log.info(ledger.summary());
  return 0;
}

async function loadOutbox(
  file: OutboxFile,
  config: AgentConfig,
  log: Logger,
): Promise<Outbox> {
  const path = file.path;
  try {
    return await file.load(config.outboxMaxSamples, log);
  } catch (err) {
    if (!(err instanceof OutboxFileError)) throw err;
    // Keep the damaged file for a human instead of overwriting it later.
    const aside = `${path}.corrupt`;
    await Deno.rename(path, aside);
    log.error(`${err.message}; moved it to ${aside}, starting empty`);
    return new Outbox(config.outboxMaxSamples, log);
  }
}

async function saveOutbox(outbox: Outbox, file: OutboxFile): Promise<void> {
  const path = file.path;
  try {
    await file.rewrite(outbox);
  } catch (err) {
    if (
      err instanceof Deno.errors.PermissionDenied ||
      err instanceof Deno.errors.NotFound
    ) {
      throw new StartupError(
        `${path}: cannot write the outbox (${err.message}); set outbox_path ` +
          `to a writable file (the systemd unit provides /var/lib/proxmon)`,
      );
    }
    throw err;
  }
}

/** Resolves with the first of the signals to arrive. */
function nextSignal(signals: Deno.Signal[]): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

/** Waits for `work` at most `ms`; says whether it finished. */
function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  return withTimeout(work.then(() => true), ms, () => false);
}

async function runService(cli: CliArgs, log: Logger): Promise<number> {
  const config = await readConfig(cli, log);
  if (!config) {
    const path = cli.configPath ?? AGENT_DEFAULTS.configPath;
    throw new StartupError(
      `${path}: not found; write it from agent.toml.example (server_url, token, host_id) or pass --config PATH`,
    );
  }
  const file = new OutboxFile(config.outboxPath);
  const outbox = await loadOutbox(file, config, log);
  // Write it now so an unwritable path fails at start, not at shutdown.
  await saveOutbox(outbox, file);
  const deadLetters = new DeadLetters(
    deadLetterPath(config.outboxPath),
    log,
    systemClock,
  );
  const connection = createConnection({
    url: config.serverUrl,
    hostName: config.hostName,
    token: config.token,
    agentVersion: AGENT_VERSION,
    configPath: config.path,
    outbox,
    deadLetters,
    clock: systemClock,
    random: Math.random,
    log,
    timing: {
      heartbeatMs: config.heartbeatMs,
      deadAfterMs: 3 * config.heartbeatMs,
    },
  });
  const trimHeap = processHeapTrim();
  const reporter = createReporter({
    collect: await createAgentCollectors(config, log),
    intervalsMs: config.intervalsMs,
    clock: systemClock,
    onSample: (sample) => {
      outbox.add(sample);
      connection.flush();
      trimHeap();
    },
    log,
  });
  const checkpoint = createCheckpoint({
    outbox,
    save: () => file.checkpoint(outbox),
    clock: systemClock,
    intervalMs: CHECKPOINT_MS,
    log,
  });
  const stop = nextSignal(["SIGTERM", "SIGINT"]);
  connection.start();
  reporter.start();
  checkpoint.start();
  log.info(
    `proxmon-agent ${AGENT_VERSION} running: host_id ${config.hostName}, ` +
      `node ${config.node}, server ${config.serverUrl}, ` +
      `${outbox.size} samples waiting from ${config.outboxPath}`,
  );

  const signal = await stop;
  log.info(`${signal}: stopping`);
  if (!await within(reporter.stop(), SHUTDOWN_GRACE_MS)) {
    log.warn(
      `a collection cycle still ran after ${
        SHUTDOWN_GRACE_MS / 1000
      } s; its sample is lost`,
    );
  }
  await connection.stop();
  await deadLetters.flushed();
  await checkpoint.stop();
  await saveOutbox(outbox, file);
  log.info(`saved ${outbox.size} unacked samples to ${config.outboxPath}`);
  return 0;
}

/** Runs the agent with `args`; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  const log = stderrLogger();
  try {
    const cli = parseCliArgs(args);
    switch (cli.mode) {
      case "help":
        console.log(USAGE);
        return 0;
      case "version":
        console.log(`proxmon-agent ${AGENT_VERSION}`);
        return 0;
      case "once":
        return await runOnce(cli, log);
      case "run":
        return await runService(cli, log);
    }
  } catch (err) {
    if (
      err instanceof CliArgsError || err instanceof AgentConfigError ||
      err instanceof StartupError
    ) {
      log.error(err.message);
      return err instanceof CliArgsError ? 2 : 1;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
