/**
 * What one `--once` run asked of the node: every command (and, with the PVE
 * API source, every API request), whether it produced data, and why not.
 * `--once` prints its summary on stderr and exits 3 when no PVE or ZFS
 * source answered, so a broken install shows at once.
 */
import type { CommandError, CommandRunner } from "./runner.ts";

/** The programs whose data proves the PVE side of the install works. */
const PVE_OR_ZFS = new Set(["pvesh", "pveversion", "pve-api", "zpool", "zfs"]);

export interface SourceLedger {
  /** Counts one use of `name`; `failure` says why it produced nothing. */
  record(name: string, failure?: string): void;
  /** `inner`, recording every command it runs by its program name. */
  wrap(inner: CommandRunner): CommandRunner;
  /** `12 commands, 3 failed: zpool (not found), pvesh (exit 255) ×2` */
  summary(): string;
  /** Whether any PVE or ZFS source produced data. */
  pveOrZfsAnswered(): boolean;
}

/** A command failure in a few words, for the summary line. */
export function failureWords(error: CommandError): string {
  switch (error.kind) {
    case "enoent":
      return "not found";
    case "nonzero_exit":
      return `exit ${error.code}`;
    case "timeout":
      return `timed out after ${error.timeoutMs} ms`;
    case "spawn_failed":
      return "could not start";
  }
}

export function createSourceLedger(): SourceLedger {
  let total = 0;
  const failures = new Map<string, number>();
  const answered = new Set<string>();
  const ledger: SourceLedger = {
    record(name, failure) {
      total++;
      if (failure === undefined) {
        answered.add(name);
        return;
      }
      const key = `${name} (${failure})`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    },
    wrap(inner) {
      return {
        async run(cmd, args, opts) {
          const result = await inner.run(cmd, args, opts);
          ledger.record(
            cmd,
            result.ok ? undefined : failureWords(result.error),
          );
          return result;
        },
      };
    },
    summary() {
      let failed = 0;
      const parts: string[] = [];
      for (const [key, n] of failures) {
        failed += n;
        parts.push(n > 1 ? `${key} ×${n}` : key);
      }
      const head = `${total} commands, ${failed} failed`;
      return parts.length ? `${head}: ${parts.join(", ")}` : head;
    },
    pveOrZfsAnswered() {
      return [...answered].some((name) => PVE_OR_ZFS.has(name));
    },
  };
  return ledger;
}
