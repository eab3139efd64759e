/**
 * CPU time of the calling thread, for measuring one piece of work while
 * Workers run beside it. `process.cpuUsage()` counts every thread of the
 * process, so a rule evaluation measured with it was charged the TCP front's
 * and the checkpointer's time too. Linux reports a thread's run time in
 * nanoseconds in /proc/thread-self/schedstat; elsewhere this falls back to
 * the process's CPU time.
 */
import { cpuUsage } from "node:process";

const SCHEDSTAT = "/proc/thread-self/schedstat";

/** Milliseconds of CPU this thread has used, as a reader made once. */
export function threadCpuClock(): () => number {
  try {
    const first = Deno.readTextFileSync(SCHEDSTAT);
    if (Number.isFinite(Number(first.split(" ")[0]))) {
      return () => Number(Deno.readTextFileSync(SCHEDSTAT).split(" ")[0]) / 1e6;
    }
  } catch {
    // no procfs (or no read permission): the process's time below
  }
  return () => {
    const u = cpuUsage();
    return (u.user + u.system) / 1000;
  };
}
