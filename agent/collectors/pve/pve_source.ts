/**
 * Where the PVE collectors get API data: `pvesh get PATH` (Perl start-up,
 * hundreds of ms of CPU a call) or the node's HTTPS API with a read-only
 * token (pve_api.ts). Both speak the API's paths and answer its `data`
 * member, so the collectors do not know which one they use.
 */
import type { CollectorError } from "@proxmon/shared";
import { type PveParams, pveshGetWith } from "../backup/pve_get.ts";
import { describeFailure, type Exec, parseJson, runCommand } from "../exec.ts";

export type PveResult =
  | { ok: true; data: unknown }
  | {
    ok: false;
    /**
     * PVE answered and said no (pvesh exited non-zero, the API sent an HTTP
     * error): the request itself is the problem, e.g. an endpoint an older
     * release lacks, or a guest agent that is not running. False when PVE
     * could not be asked at all.
     */
    refused: boolean;
    error: CollectorError;
  };

export interface PveGetOptions {
  /** Shorter than the source's default, e.g. 5 s for guest-agent calls. */
  timeoutMs?: number;
  /** Query parameters (`--key value` to pvesh, `?key=value` to the API). */
  params?: PveParams;
}

export interface PveSource {
  /** `pvesh` or `api`, for messages and the `--once` summary. */
  readonly kind: "pvesh" | "api";
  /** GET `path` (`/nodes/pve1/qemu`); a failure is an entry tagged `tag`. */
  get(path: string, tag: string, opts?: PveGetOptions): Promise<PveResult>;
}

/** The pvesh source: one `pvesh get PATH --output-format json` per request. */
export function pveshSource(exec: Exec): PveSource {
  return {
    kind: "pvesh",
    async get(path, tag, opts) {
      const command = pveshGetWith(path, opts?.params ?? {});
      const result = await runCommand(
        opts?.timeoutMs ? { ...exec, timeoutMs: opts.timeoutMs } : exec,
        command,
      );
      if (!result.ok) {
        return {
          ok: false,
          refused: result.error.kind === "nonzero_exit",
          error: { tag, message: describeFailure(command, result.error) },
        };
      }
      const parsed = parseJson(result.stdout, tag, `pvesh get ${path}`);
      return parsed.ok
        ? { ok: true, data: parsed.value }
        : { ok: false, refused: false, error: parsed.error };
    },
  };
}
