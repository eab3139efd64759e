/**
 * Runs the zpool/zfs commands and picks the output form once per run: JSON on
 * OpenZFS 2.3+, the `-Hp`/`-p` text form on 2.2 (PVE 8), which refuses `-j`
 * with `invalid option 'j'` and exit code 2.
 */
import type {
  CollectorError,
  DiskVdev,
  ZfsDatasets,
  ZfsPools,
} from "@proxmon/shared";
import type { CommandError } from "../../runner.ts";
import {
  type Command,
  ZFS_LIST_JSON,
  ZFS_LIST_TEXT,
  ZPOOL_LIST_JSON,
  ZPOOL_LIST_TEXT,
  ZPOOL_STATUS_JSON,
  ZPOOL_STATUS_TEXT,
} from "../commands.ts";
import { describeFailure, type Exec, runCommand } from "../exec.ts";
import { parseZfsListJson, parseZfsListText } from "./datasets.ts";
import {
  mergePools,
  type ParsedPools,
  type PoolStatus,
  type PoolUsage,
} from "./pools.ts";
import { type LocalTimeToUnix, systemLocalTime } from "./scan.ts";
import {
  parseZpoolListJson,
  parseZpoolStatusJson,
  zpoolStatusTreesJson,
} from "./zpool_json.ts";
import {
  parseZpoolListText,
  parseZpoolStatusText,
  zpoolStatusTreesText,
} from "./zpool_text.ts";
import { poolDevices } from "../smart/pool_devices.ts";

export type ZfsOutputMode = "json" | "text";

export interface ZfsCollector {
  /** zpool list + zpool status, run concurrently and joined per pool. */
  pools(): Promise<ZfsPools>;
  /** zfs list -t all, summarised per filesystem and volume. */
  datasets(): Promise<ZfsDatasets>;
  /** Every pool's leaf devices with their top-level vdev (for SMART, on the slow cycle). */
  devices(): Promise<{ devices: DiskVdev[]; errors: CollectorError[] }>;
  /** The output form in use; starts as "json", switches to "text" for good on refusal. */
  mode(): ZfsOutputMode;
}

/** Whether a failure means "this ZFS has no JSON output" rather than a real error. */
export function refusesJson(error: CommandError): boolean {
  return error.kind === "nonzero_exit" &&
    /invalid option|unrecognized option/i.test(
      `${error.stderr}\n${error.stdout}`,
    );
}

interface Form<R> {
  tag: string;
  json: Command;
  text: Command;
  fromJson: (stdout: string) => R;
  fromText: (stdout: string) => R;
  empty: (error: CollectorError) => R;
}

/**
 * Creates a ZFS collector. `toUnix` converts the local times in text
 * `zpool status` (the node's time zone unless a test says otherwise).
 */
export function createZfsCollector(
  exec: Exec,
  toUnix: LocalTimeToUnix = systemLocalTime,
): ZfsCollector {
  let mode: ZfsOutputMode = "json";

  async function run<R>(form: Form<R>): Promise<R> {
    if (mode === "json") {
      const result = await runCommand(exec, form.json);
      if (result.ok) return form.fromJson(result.stdout);
      if (!refusesJson(result.error)) {
        return form.empty({
          tag: form.tag,
          message: describeFailure(form.json, result.error),
        });
      }
      // Every later command of this run goes straight to the text form.
      mode = "text";
    }
    const result = await runCommand(exec, form.text);
    return result.ok ? form.fromText(result.stdout) : form.empty({
      tag: form.tag,
      message: describeFailure(form.text, result.error),
    });
  }

  const noPools = <T>(error: CollectorError): ParsedPools<T> => ({
    pools: [],
    errors: [error],
  });

  return {
    mode: () => mode,
    async pools() {
      const [usage, status] = await Promise.all([
        run({
          tag: "zpool_list",
          json: ZPOOL_LIST_JSON,
          text: ZPOOL_LIST_TEXT,
          fromJson: parseZpoolListJson,
          fromText: parseZpoolListText,
          empty: noPools<PoolUsage>,
        }),
        run({
          tag: "zpool_status",
          json: ZPOOL_STATUS_JSON,
          text: ZPOOL_STATUS_TEXT,
          fromJson: parseZpoolStatusJson,
          fromText: (stdout) => parseZpoolStatusText(stdout, toUnix),
          empty: noPools<PoolStatus>,
        }),
      ]);
      return {
        pools: mergePools(usage.pools, status.pools),
        errors: [...usage.errors, ...status.errors],
      };
    },
    devices() {
      type Devices = { devices: DiskVdev[]; errors: CollectorError[] };
      const flatten = (
        trees: ReturnType<typeof zpoolStatusTreesJson>,
      ): Devices => ({
        devices: trees.flatMap((t) => poolDevices(t.pool, t.roots)),
        errors: [],
      });
      return run<Devices>({
        tag: "zpool_status",
        json: ZPOOL_STATUS_JSON,
        text: ZPOOL_STATUS_TEXT,
        fromJson: (stdout) => flatten(zpoolStatusTreesJson(stdout)),
        fromText: (stdout) => flatten(zpoolStatusTreesText(stdout)),
        empty: (error) => ({ devices: [], errors: [error] }),
      });
    },
    datasets() {
      return run({
        tag: "zfs_list",
        json: ZFS_LIST_JSON,
        text: ZFS_LIST_TEXT,
        fromJson: parseZfsListJson,
        fromText: parseZfsListText,
        empty: (error) => ({ datasets: [], errors: [error] }),
      });
    },
  };
}
