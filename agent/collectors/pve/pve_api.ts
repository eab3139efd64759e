/**
 * The PVE API source: `GET https://127.0.0.1:8006/api2/json/PATH` with a
 * read-only API token (`Authorization: PVEAPIToken=USER@REALM!ID=SECRET`).
 * A request costs the agent a few ms where `pvesh` starts Perl.
 *
 * Trust: the node's own CA (`/etc/pve/pve-root-ca.pem`, which signs
 * `/etc/pve/local/pve-ssl.pem`, whose names include 127.0.0.1 and
 * localhost) is given to one HTTP client used for this URL only; nothing
 * else in the agent trusts it, and verification is never turned off.
 *
 * When the API cannot be used (pveproxy restarting, a refused or revoked
 * token), the rest of that cycle goes through pvesh and the cycle records
 * one `pve_api` error; the next cycle tries the API again.
 */
import type { CollectorError } from "@proxmon/shared";
import type { Exec } from "../exec.ts";
import type { PveCycle } from "../mod.ts";
import {
  type PveGetOptions,
  type PveResult,
  pveshSource,
  type PveSource,
} from "./pve_source.ts";
import type { PveParams } from "../backup/pve_get.ts";

export const DEFAULT_PVE_API_URL = "https://127.0.0.1:8006/api2/json";
export const DEFAULT_PVE_CA_FILE = "/etc/pve/pve-root-ca.pem";

export interface PveApiOptions {
  /** `https://127.0.0.1:8006/api2/json` */
  url: string;
  /** `USER@REALM!TOKENID=SECRET`, as `pveum user token add` prints it */
  token: string;
  /** Requests slower than this fail (the agent's command timeout). */
  timeoutMs: number;
  /** An HTTP client that trusts the node's CA (see {@link pveApiClient}). */
  client?: Deno.HttpClient;
}

/**
 * An HTTP client trusting `caPem` (PEM text) besides the system's CAs,
 * speaking HTTP/1.1 as pveproxy does (it puts error messages in the status
 * line, which HTTP/2 has no room for).
 */
export function pveApiClient(caPem: string): Deno.HttpClient {
  return Deno.createHttpClient({ caCerts: [caPem], http1: true, http2: false });
}

/** A request the API did not answer usefully, and whether to stop using it. */
interface ApiFailure {
  ok: false;
  result: PveResult & { ok: false };
  /** The API itself is unusable (down, TLS, token): fall back to pvesh. */
  unusable: boolean;
}

function describe(e: unknown): string {
  if (e instanceof DOMException && e.name === "TimeoutError") {
    return "timed out";
  }
  if (!(e instanceof Error)) return String(e);
  // fetch says "fetch failed"; the TLS or connection error is the cause.
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `${e.message}${cause}`;
}

function bodyMessage(text: string): string | undefined {
  try {
    const message = JSON.parse(text)?.message;
    return typeof message === "string" ? message.trim() : undefined;
  } catch {
    return undefined;
  }
}

function query(params: PveParams | undefined): string {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return "";
  return `?${
    new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()
  }`;
}

/** One API request; never throws. */
async function request(
  opts: PveApiOptions,
  path: string,
  tag: string,
  getOpts?: PveGetOptions,
): Promise<{ ok: true; data: unknown } | ApiFailure> {
  const timeoutMs = getOpts?.timeoutMs ?? opts.timeoutMs;
  const where = `GET ${path}`;
  const fail = (
    message: string,
    refused: boolean,
    unusable: boolean,
  ): ApiFailure => ({
    ok: false,
    unusable,
    result: { ok: false as const, refused, error: { tag, message } },
  });
  let res: Response;
  try {
    res = await fetch(`${opts.url}${path}${query(getOpts?.params)}`, {
      headers: { Authorization: `PVEAPIToken=${opts.token}` },
      signal: AbortSignal.timeout(timeoutMs),
      client: opts.client,
    });
  } catch (e) {
    return fail(`PVE API ${where}: ${describe(e)}`, false, true);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    return fail(`PVE API ${where}: ${describe(e)}`, false, true);
  }
  if (!res.ok) {
    // PVE puts its error message in the status line (`500 VM 100 not
    // running`) and, in newer releases, in the body's `message` too.
    const reason = `${res.status} ${bodyMessage(text) ?? res.statusText}`
      .trim();
    // 401: the token is wrong or revoked, so nothing will work this cycle.
    // 403: this path needs a privilege the token lacks (guest-agent calls
    // need VM.GuestAgent.Audit on PVE 9); the other requests still work.
    const hint = res.status === 401
      ? " (check [pve] api_token)"
      : res.status === 403
      ? " (the token lacks a privilege for this path; see the README)"
      : "";
    return fail(
      `PVE API ${where}: ${reason}${hint}`,
      res.status !== 401,
      res.status === 401,
    );
  }
  try {
    const body = JSON.parse(text);
    return { ok: true, data: body?.data ?? null };
  } catch (e) {
    return fail(
      `PVE API ${where}: invalid JSON (${describe(e)})`,
      false,
      false,
    );
  }
}

/** The API as a {@link PveSource}, without fallback. */
export function pveApiSource(opts: PveApiOptions): PveSource {
  return {
    kind: "api",
    async get(path, tag, getOpts) {
      const out = await request(opts, path, tag, getOpts);
      return out.ok ? out : out.result;
    },
  };
}

/**
 * Per cycle: the API, until it proves unusable; then pvesh for the rest of
 * the cycle, with one `pve_api` error in the cycle's errors. `record` sees
 * every API request and how it failed, in two words (the `--once` summary).
 */
export function pveApiCycles(
  opts: PveApiOptions,
  record?: (failure?: string) => void,
): (exec: Exec) => PveCycle {
  return (exec) => {
    const errors: CollectorError[] = [];
    const pvesh = pveshSource(exec);
    let usable = true;
    const source: PveSource = {
      get kind() {
        return usable ? "api" : "pvesh";
      },
      async get(path, tag, getOpts) {
        if (!usable) return pvesh.get(path, tag, getOpts);
        const out = await request(opts, path, tag, getOpts);
        record?.(
          out.ok ? undefined : out.unusable ? "API unusable" : "refused",
        );
        if (out.ok) return out;
        if (!out.unusable) return out.result;
        if (usable) {
          usable = false;
          errors.push({
            tag: "pve_api",
            message: `${out.result.error.message}; this cycle uses pvesh`,
          });
        }
        return pvesh.get(path, tag, getOpts);
      },
    };
    return { source, errors };
  };
}
