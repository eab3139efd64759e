/**
 * Server entry point: `deno task serve`. Reads the environment, starts the
 * server, and shuts it down cleanly on SIGINT or SIGTERM (exit 0).
 */
import { resolveServerConfig } from "./config.ts";
import { consoleLogger } from "@proxmon/shared/logger";
import { startServer } from "./server.ts";
import { AlertsConfigError } from "./alerts/alerts_config.ts";
import { DatabaseError } from "./store/client.ts";

// Deno.serve throws AddrInUse; node's server reports EADDRINUSE.
const isAddrInUse = (err: unknown) =>
  err instanceof Deno.errors.AddrInUse ||
  (err instanceof Error && "code" in err && err.code === "EADDRINUSE");

/** Runs the server until a stop signal; returns the exit code. */
export async function main(
  env: Record<string, string | undefined>,
): Promise<number> {
  const log = consoleLogger;
  const resolved = resolveServerConfig(env);
  if (!resolved.ok) {
    console.error(`proxmon: cannot start: ${resolved.error}`);
    return 1;
  }
  const { config } = resolved;
  for (const warning of resolved.warnings) log.warn(warning);

  let server;
  try {
    server = await startServer(config, { log });
  } catch (err) {
    if (err instanceof AlertsConfigError || err instanceof DatabaseError) {
      console.error(`proxmon: cannot start: ${err.message}`);
      return 1;
    }
    if (!isAddrInUse(err)) throw err;
    console.error(
      `proxmon: cannot start: ${config.hostname}:${config.port} is already in use (set PORT)`,
    );
    return 1;
  }
  // The address as bound, so "every interface" is never read as "local".
  const everywhere = ["0.0.0.0", "::"].includes(config.hostname)
    ? ", every interface"
    : "";
  log.info(
    `proxmon listening on http://${server.address} (agent socket at /agent/ws${everywhere}, database ${config.databaseUrl}, ${config.env}, ${config.wsAdapter} websockets)`,
  );

  log.info(server.limits);

  const signal = await new Promise<Deno.Signal>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });
  log.info(`${signal}: shutting down`);
  const stats = await server.shutdown();
  log.info(
    `stopped: ${stats.received} samples received, ${stats.stored} stored, ${stats.duplicates} duplicates, ${stats.refused} refused, ${stats.failed} failed`,
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.env.toObject()));
}
