/**
 * Bounded concurrency. Each `pvesh` call costs a Perl start-up, so a node with
 * fifty guests must not fire a hundred at once, nor run them one by one.
 */
import type { CommandRunner } from "../runner.ts";

/** Runs tasks with at most `limit` of them in flight; the rest wait in order. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** A limiter allowing `limit` (at least 1) tasks at once. */
export function createLimiter(limit: number): Limiter {
  const max = Math.max(1, Math.floor(limit));
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (active < max) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  // A finishing task hands its slot straight to the next waiter, so a caller
  // arriving in between can never push the count past the limit.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    await acquire();
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping the
 * results in the order of `items`.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  const workers = Math.min(Math.max(1, Math.floor(limit)), items.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/** Wraps a runner so that all commands through it share one limit. */
export function limitRunner(
  runner: CommandRunner,
  limit: number,
): CommandRunner {
  const limited = createLimiter(limit);
  return {
    run: (cmd, args, opts) => limited(() => runner.run(cmd, args, opts)),
  };
}
