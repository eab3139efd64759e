/** Where the benchmarks find the repository and keep their files. */

/** The repository root, with no trailing slash. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(
  /\/$/,
  "",
);

/**
 * Preloaded databases are cached here between runs; `data/` is git-ignored.
 */
export const BENCH_DATA_DIR = `${REPO_ROOT}/data/bench`;
