/**
 * `deno task demo`: proxmon without a Proxmox node. Starts the server with
 * an embedded database in data/demo/ (wiped at start; DEMO_DIR moves it),
 * registers three simulated PVE nodes, sends each one's past 48 hours
 * through the agent socket (as an agent replaying its outbox would), and
 * then runs a real agent against each: a small healthy node, a node with a
 * DEGRADED pool and a scrub running, and a PVE 8 node on ZFS 2.2 (text
 * output). Development mode, no password, on 127.0.0.1. Honours PORT
 * (default 4000). Ctrl-C stops everything.
 */

/** True when something already listens on 127.0.0.1:`port`. */
function portTaken(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return false;
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return true;
    throw err;
  }
}

async function main(env: Record<string, string | undefined>): Promise<number> {
  const started = Date.now();
  const port = Number(env.PORT ?? "4000");
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(
      `demo: PORT must be a port number, got ${JSON.stringify(env.PORT)}`,
    );
    return 1;
  }
  // Said before anything starts; a port taken later still ends the demo,
  // through the server's own exit.
  if (portTaken(port)) {
    console.error(
      `demo: port ${port} on 127.0.0.1 is in use: stop what holds it or set PORT`,
    );
    return 1;
  }
  // Everything else loads only now, so a busy port is said within moments.
  const { runDemo } = await import("./smoke/demo_run.ts");
  return await runDemo(env, port, started);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.env.toObject()));
}
