/**
 * The fake `zpool`: `list` and `status`, as JSON (OpenZFS 2.3+, `-j`) or
 * as text (every version), plus `--version`. On a 2.2 profile `-j` fails
 * with `invalid option 'j'` and the usage text, exit 2, as ZFS 2.2 does.
 */
import { type JsonObject, jsonText, type JsonValue } from "../json_text.ts";
import {
  type NodeModel,
  type PoolModel,
  scanAt,
  type ScanModel,
  txgAt,
  type VdevModel,
  vdevsPostOrder,
} from "../node_model.ts";
import { getopt, type ParsedOpts } from "./getopt.ts";
import { fail, ok, type ToolResult } from "./tool_result.ts";
import { ctime, dhms, nicenum, table } from "./zfs_text.ts";
import { zfsVersion } from "./zfs_version.ts";
import { zpoolListUsage, zpoolStatusUsage } from "./zfs_usage.ts";

const JSON_LONG = ["json-int", "json-flat-vdevs", "json-pool-key-guid"];

/** Answers one zpool command line at `nowMs`. */
export function zpool(
  model: NodeModel,
  args: string[],
  nowMs: number,
): ToolResult {
  const [sub, ...rest] = args;
  const now = Math.floor(nowMs / 1000);
  if (sub === "--version" || sub === "-V" || sub === "version") {
    return zfsVersion(model);
  }
  if (sub === "list") return list(model, rest, now);
  if (sub === "status") return status(model, rest, now);
  if (sub === undefined) {
    return fail("missing command\nusage: zpool command args ...\n", 2);
  }
  return fail(
    `unrecognized command '${sub}'\nusage: zpool command args ...\n`,
    2,
  );
}

function parse(
  model: NodeModel,
  args: string[],
  short: string,
  usage: () => string,
): { ok: true; opts: ParsedOpts } | { ok: false; result: ToolResult } {
  const json = model.zfsJson;
  const parsed = getopt(args, {
    short: json ? `${short}j` : short,
    long: json ? JSON_LONG : [],
  });
  if (!parsed.ok) {
    return { ok: false, result: fail(parsed.message + usage(), 2) };
  }
  return { ok: true, opts: parsed.opts };
}

function selectPools(
  model: NodeModel,
  names: string[],
): PoolModel[] | ToolResult {
  if (names.length === 0) return model.pools;
  const out: PoolModel[] = [];
  for (const name of names) {
    const pool = model.pools.find((p) => p.name === name);
    if (!pool) return fail(`cannot open '${name}': no such pool\n`, 1);
    out.push(pool);
  }
  return out;
}

function envelope(command: string, pools: JsonObject): string {
  return `${
    jsonText({
      output_version: { command, vers_major: 0, vers_minor: 1 },
      pools,
    })
  }\n`;
}

/** A number as --json-int prints it, or as a string without it. */
function num(value: number | bigint, asInt: boolean): JsonValue {
  return asInt ? value : String(value);
}

// ---- zpool list ------------------------------------------------------------

interface ListProp {
  name: string;
  header: string;
  right: boolean;
  value(pool: PoolModel, literal: boolean): string;
}

const LIST_PROPS: ListProp[] = [
  { name: "name", header: "NAME", right: false, value: (p) => p.name },
  {
    name: "size",
    header: "SIZE",
    right: true,
    value: (p, l) => bytes(p.sizeBytes, l),
  },
  {
    name: "allocated",
    header: "ALLOC",
    right: true,
    value: (p, l) => bytes(p.allocBytes, l),
  },
  {
    name: "free",
    header: "FREE",
    right: true,
    value: (p, l) => bytes(p.freeBytes, l),
  },
  { name: "checkpoint", header: "CKPOINT", right: true, value: () => "-" },
  { name: "expandsize", header: "EXPANDSZ", right: true, value: () => "-" },
  {
    name: "fragmentation",
    header: "FRAG",
    right: true,
    value: (p, l) => (l ? String(p.fragmentation) : `${p.fragmentation}%`),
  },
  {
    name: "capacity",
    header: "CAP",
    right: true,
    value: (p, l) => (l ? String(p.capacity) : `${p.capacity}%`),
  },
  {
    name: "dedupratio",
    header: "DEDUP",
    right: true,
    value: (_p, l) => (l ? "1.00" : "1.00x"),
  },
  { name: "health", header: "HEALTH", right: false, value: (p) => p.state },
  { name: "altroot", header: "ALTROOT", right: false, value: () => "-" },
  {
    name: "guid",
    header: "GUID",
    right: false,
    value: (p) => p.guid.toString(),
  },
];

const ALIASES: Record<string, string> = {
  alloc: "allocated",
  cap: "capacity",
  frag: "fragmentation",
  dedup: "dedupratio",
  ckpoint: "checkpoint",
  expandsz: "expandsize",
};

const DEFAULT_LIST = [
  "name",
  "size",
  "allocated",
  "free",
  "checkpoint",
  "expandsize",
  "fragmentation",
  "capacity",
  "dedupratio",
  "health",
  "altroot",
];

function bytes(n: number, literal: boolean): string {
  return literal ? String(n) : nicenum(n);
}

function list(model: NodeModel, args: string[], now: number): ToolResult {
  const parsed = parse(model, args, ":gHLo:pPT:v", zpoolListUsage);
  if (!parsed.ok) return parsed.result;
  const { flags, values, operands } = parsed.opts;
  const names = (values.get("o") ?? DEFAULT_LIST.join(",")).split(",");
  const props: ListProp[] = [];
  for (const raw of names) {
    const prop = LIST_PROPS.find((p) => p.name === (ALIASES[raw] ?? raw));
    if (!prop) {
      return fail(
        `property '${raw}' is not a valid pool property\n${zpoolListUsage()}`,
        2,
      );
    }
    props.push(prop);
  }
  const pools = selectPools(model, operands);
  if (!Array.isArray(pools)) return pools;
  if (flags.has("j")) {
    const asInt = flags.has("json-int");
    const out: JsonObject = {};
    for (const pool of pools) {
      const properties: JsonObject = {};
      for (const prop of props) {
        if (prop.name === "name") continue;
        const text = prop.value(pool, asInt || flags.has("p"));
        // --json-int turns a value into a number only when it is all digits
        properties[prop.name] = {
          value: asInt && /^\d+$/.test(text) ? BigInt(text) : text,
          source: {
            type: prop.name === "altroot" ? "DEFAULT" : "NONE",
            data: "-",
          },
        };
      }
      out[pool.name] = {
        name: pool.name,
        type: "POOL",
        state: pool.state,
        pool_guid: num(pool.guid, asInt),
        txg: num(txgAt(pool, now), asInt),
        spa_version: num(5000, asInt),
        zpl_version: num(5, asInt),
        properties,
      };
    }
    return ok(envelope("zpool list", out));
  }
  const literal = flags.has("p");
  return ok(table(
    props.map((p) => p.header),
    pools.map((pool) => props.map((p) => p.value(pool, literal))),
    flags.has("H"),
    props.map((p) => p.right),
  ));
}

// ---- zpool status: the words ------------------------------------------------

interface Problem {
  status: string;
  action: string;
  msgid?: string;
}

// the texts of zpool_main.c's status switch, per libzfs reason
const PROBLEMS: Record<NonNullable<PoolModel["problem"]>, Problem> = {
  failing: {
    status:
      "One or more devices has experienced an unrecoverable error.  An\n" +
      "\tattempt was made to correct the error.  Applications are unaffected.\n",
    action:
      "Determine if the device needs to be replaced, and clear the errors\n" +
      "\tusing 'zpool clear' or replace the device with 'zpool replace'.\n",
    msgid: "ZFS-8000-9P",
  },
  faulted: {
    status:
      "One or more devices are faulted in response to persistent errors.\n" +
      "\tSufficient replicas exist for the pool to continue functioning in a\n" +
      "\tdegraded state.\n",
    action:
      "Replace the faulted device, or use 'zpool clear' to mark the device\n" +
      "\trepaired.\n",
    msgid: "ZFS-8000-K4",
  },
  offline: {
    status:
      "One or more devices has been taken offline by the administrator.\n" +
      "\tSufficient replicas exist for the pool to continue functioning in a\n" +
      "\tdegraded state.\n",
    action:
      "Online the device using 'zpool online' or replace the device with\n" +
      "\t'zpool replace'.\n",
  },
  missing: {
    status:
      "One or more devices could not be opened.  Sufficient replicas exist for\n" +
      "\tthe pool to continue functioning in a degraded state.\n",
    action: "Attach the missing device and online it using 'zpool online'.\n",
    msgid: "ZFS-8000-2Q",
  },
};

const MOREINFO = "https://openzfs.github.io/openzfs-docs/msg/";

// JSON takes vdev states raw from vdev_state_str, where a missing disk is CANT_OPEN
function jsonState(state: string): string {
  return state === "UNAVAIL" ? "CANT_OPEN" : state;
}

// ---- zpool status -j ---------------------------------------------------------

function status(model: NodeModel, args: string[], now: number): ToolResult {
  const parsed = parse(model, args, ":c:DegiLpPstT:vx", zpoolStatusUsage);
  if (!parsed.ok) return parsed.result;
  const { flags, operands } = parsed.opts;
  let pools = selectPools(model, operands);
  if (!Array.isArray(pools)) return pools;
  if (flags.has("x")) pools = pools.filter((p) => p.state !== "ONLINE");
  if (flags.has("j")) return statusJson(pools, flags, now);
  if (flags.has("x") && pools.length === 0) {
    return ok("all pools are healthy\n");
  }
  if (pools.length === 0) return ok("no pools available\n");
  return ok(pools.map((p) => statusText(p, flags.has("P"), now)).join("\n"));
}

function statusJson(
  pools: PoolModel[],
  flags: Set<string>,
  now: number,
): ToolResult {
  const asInt = flags.has("json-int");
  const flat = flags.has("json-flat-vdevs");
  const fullPath = flags.has("P");
  const out: JsonObject = {};
  for (const pool of pools) {
    const problem = pool.problem ? PROBLEMS[pool.problem] : undefined;
    const vdevName = (v: VdevModel) => (fullPath && v.path ? v.path : v.name);
    const vdevJson = (v: VdevModel, parent: VdevModel | null): JsonObject => {
      const leaf = v.type === "disk";
      const obj: JsonObject = {
        name: vdevName(v),
        vdev_type: v.type,
        guid: num(v.guid, asInt),
        path: v.path,
        phys_path: v.physPath,
        devid: v.devid,
        class: "normal",
        state: jsonState(v.state),
        parent: parent ? vdevName(parent) : undefined,
        // zero space stats are left out, not printed as 0
        alloc_space: v.allocBytes ? num(v.allocBytes, asInt) : undefined,
        total_space: v.totalBytes ? num(v.totalBytes, asInt) : undefined,
        def_space: v.totalBytes ? num(v.totalBytes, asInt) : undefined,
        rep_dev_size: leaf && v.devBytes
          ? num(v.devBytes - 4 * 1024 * 1024, asInt)
          : undefined,
        self_healed: v.selfHealed ? num(v.selfHealed, asInt) : undefined,
        phys_space: leaf && v.devBytes ? num(v.devBytes, asInt) : undefined,
        read_errors: num(v.readErrors, asInt),
        write_errors: num(v.writeErrors, asInt),
        checksum_errors: num(v.checksumErrors, asInt),
        slow_ios: leaf ? num(0, asInt) : undefined,
        aux: v.aux,
      };
      if (v.children.length > 0) {
        const children: JsonObject = {};
        for (const child of v.children) {
          children[vdevName(child)] = vdevJson(child, v);
        }
        obj.vdevs = children;
      }
      return obj;
    };
    const parents = new Map<VdevModel, VdevModel | null>([[pool.root, null]]);
    for (const v of vdevsPostOrder(pool.root)) {
      for (const child of v.children) parents.set(child, v);
    }
    const vdevs: JsonObject = {};
    if (flat) {
      // "flat" still nests: every vdev also appears at pool level, children first
      for (const v of vdevsPostOrder(pool.root)) {
        vdevs[vdevName(v)] = vdevJson(v, parents.get(v) ?? null);
      }
    } else {
      vdevs[pool.name] = vdevJson(pool.root, null);
    }
    out[pool.name] = {
      name: pool.name,
      state: pool.state,
      pool_guid: num(pool.guid, asInt),
      txg: num(txgAt(pool, now), asInt),
      spa_version: num(5000, asInt),
      zpl_version: num(5, asInt),
      status: problem?.status,
      action: problem?.action,
      msgid: problem?.msgid,
      moreinfo: problem?.msgid ? `${MOREINFO}${problem.msgid}` : undefined,
      scan_stats: scanJson(scanAt(pool, now), asInt),
      vdevs,
      error_count: num(0, asInt),
    };
  }
  return ok(envelope("zpool status", out));
}

function scanJson(
  scan: ScanModel | null,
  asInt: boolean,
): JsonValue | undefined {
  if (!scan) return undefined;
  const time = (t: number) => (asInt ? t : t === 0 ? "0" : ctime(t).trimEnd());
  const size = (n: number) => (asInt ? n : nicenum(n));
  return {
    function: "SCRUB",
    state: scan.state,
    start_time: time(scan.startTime),
    end_time: time(scan.endTime),
    to_examine: size(scan.toExamine),
    examined: size(scan.examined),
    skipped: size(0),
    processed: size(scan.processed),
    errors: num(0, asInt),
    bytes_per_scan: size(0),
    pass_start: scan.passStart,
    scrub_pause: num(0, asInt),
    scrub_spent_paused: 0,
    issued_bytes_per_scan: size(scan.issued),
    issued: size(scan.issued),
  };
}

// ---- zpool status (text) ------------------------------------------------------

const AUX_TEXT: Record<NonNullable<VdevModel["aux"]>, string> = {
  ERR_EXCEEDED: "too many errors",
  OPEN_FAILED: "cannot open",
};

function statusText(pool: PoolModel, fullPath: boolean, now: number): string {
  const problem = pool.problem ? PROBLEMS[pool.problem] : undefined;
  let text = `  pool: ${pool.name}\n state: ${pool.state}\n`;
  if (problem) {
    text += `status: ${problem.status}action: ${problem.action}`;
    if (problem.msgid) text += `   see: ${MOREINFO}${problem.msgid}\n`;
  }
  text += `  scan: ${scanText(scanAt(pool, now), now)}config:\n\n`;
  const name = (v: VdevModel) => (fullPath && v.path ? v.path : v.name);
  const widthOf = (v: VdevModel, depth: number): number =>
    Math.max(
      name(v).length + depth,
      ...v.children.map((c) => widthOf(c, depth + 2)),
    );
  const width = Math.max(10, widthOf(pool.root, 0));
  text += `\t${"NAME".padEnd(width)}  ${"STATE".padEnd(8)} ${
    "READ".padStart(5)
  } ${"WRITE".padStart(5)} ${"CKSUM".padStart(5)}\n`;
  const row = (v: VdevModel, depth: number): string => {
    let line = `\t${" ".repeat(depth)}${name(v).padEnd(width - depth)}  ${
      v.state.padEnd(8)
    } ${String(v.readErrors).padStart(5)} ${
      String(v.writeErrors).padStart(5)
    } ${String(v.checksumErrors).padStart(5)}`;
    if (v.aux) line += `  ${AUX_TEXT[v.aux]}`;
    return `${line}\n${v.children.map((c) => row(c, depth + 2)).join("")}`;
  };
  text += row(pool.root, 0);
  text += "\nerrors: No known data errors\n";
  return text;
}

function scanText(scan: ScanModel | null, now: number): string {
  if (!scan) return "none requested\n";
  const repaired = nicenum(scan.processed, true);
  if (scan.state === "FINISHED") {
    return `scrub repaired ${repaired} in ${
      dhms(scan.endTime - scan.startTime)
    } with 0 errors on ${ctime(scan.endTime)}`;
  }
  const elapsed = Math.max(1, now - scan.passStart);
  const rate = Math.floor(scan.examined / elapsed);
  const issueRate = Math.floor(scan.issued / elapsed);
  const toGo = issueRate > 0
    ? Math.floor((scan.toExamine - scan.issued) / issueRate)
    : 0;
  return `scrub in progress since ${ctime(scan.startTime)}` +
    `\t${nicenum(scan.examined, true)} / ${
      nicenum(scan.toExamine, true)
    } scanned at ${nicenum(rate, true)}/s, ${nicenum(scan.issued, true)} / ${
      nicenum(scan.toExamine, true)
    } issued at ${nicenum(issueRate, true)}/s\n` +
    `\t${repaired} repaired, ${(scan.fraction * 100).toFixed(2)}% done, ${
      dhms(toGo)
    } to go\n`;
}
