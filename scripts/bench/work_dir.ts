/** A temporary folder per benchmark run, for databases, payloads and logs. */

/**
 * Runs `fn` with a fresh temp dir. The dir is removed after success (unless
 * BENCH_KEEP is set); after a failure it is kept and named, since its logs
 * say what went wrong.
 */
export async function withWorkDir<T>(
  name: string,
  log: (msg: string) => void,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: `proxmon-bench-${name}-` });
  try {
    const out = await fn(dir);
    // BENCH_KEEP=1 keeps it, the servers' logs included, to read them.
    if (Deno.env.get("BENCH_KEEP")) log(`${name}: kept ${dir}`);
    else await Deno.remove(dir, { recursive: true });
    return out;
  } catch (err) {
    log(`${name}: failed; logs kept in ${dir}`);
    throw err;
  }
}

/** Size in bytes of a SQLite file with its -wal, 0 for a missing part. */
export async function sqliteBytes(path: string): Promise<number> {
  let total = 0;
  for (const p of [path, `${path}-wal`]) {
    try {
      total += (await Deno.stat(p)).size;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return total;
}
