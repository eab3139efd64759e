/**
 * Parsers for the OpenZFS 2.2 text forms (PVE 8 has no JSON output):
 * `zpool list -Hp -o name,size,alloc,free,frag,cap,health` and
 * `zpool status -p`. They produce the same halves as the JSON parsers.
 */
import { ZPOOL_LIST_TEXT_COLUMNS } from "../commands.ts";
import { type ErrorList, toNumber } from "../values.ts";
import type { ParsedPools, PoolStatus, PoolUsage } from "./pools.ts";
import {
  lastScrubEnd,
  type LocalTimeToUnix,
  scanFromText,
  systemLocalTime,
} from "./scan.ts";
import { countVdevs, type VdevNode } from "./vdev_tree.ts";

const LIST_TAG = "zpool_list";
const STATUS_TAG = "zpool_status";

/** Parses `zpool list -Hp -o name,size,alloc,free,frag,cap,health`: one tab-separated line per pool. */
export function parseZpoolListText(text: string): ParsedPools<PoolUsage> {
  const errors: ErrorList = [];
  const pools: PoolUsage[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const cols = line.split("\t");
    if (cols.length !== ZPOOL_LIST_TEXT_COLUMNS.length) {
      errors.push({
        tag: LIST_TAG,
        message:
          `expected ${ZPOOL_LIST_TEXT_COLUMNS.length} tab-separated columns: ${
            JSON.stringify(line)
          }`,
      });
      continue;
    }
    const [name, size, alloc, free, frag, cap, health] = cols;
    const num = (value: string, field: string) =>
      toNumber(value.replace(/%$/, ""), `${name}.${field}`, LIST_TAG, errors);
    pools.push({
      name,
      health,
      size_bytes: num(size, "size"),
      allocated_bytes: num(alloc, "alloc"),
      free_bytes: num(free, "free"),
      fragmentation_percent: num(frag, "frag"),
      capacity_percent: num(cap, "cap"),
    });
  }
  return { pools, errors };
}

interface Section {
  key: string;
  lines: string[];
}

/**
 * Splits one pool's block into its `key:` sections. Keys are right-aligned
 * with spaces (`  pool:`, ` state:`); continuation and config lines start
 * with a tab, so a device path containing a colon is never taken for a key.
 */
function sections(lines: readonly string[]): Section[] {
  const out: Section[] = [];
  for (const line of lines) {
    const m = /^ *([a-z]+): ?(.*)$/.exec(line);
    if (m && !line.startsWith("\t")) out.push({ key: m[1], lines: [m[2]] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

// Class headings in the config section; like the root they are not devices.
const DEVICE_ROW = /^\t( *)(\S+)(?:\s+(\S+))?/;
const STATE = /^[A-Z_]+$/;
const NOT_DEVICES = /^(indirect|hole)-\d+$/;

/** The config section as a vdev tree, from the two-space indentation per level. */
function configTree(lines: readonly string[]): VdevNode[] {
  const roots: VdevNode[] = [];
  const stack: { depth: number; node: VdevNode }[] = [];
  for (const line of lines) {
    const m = DEVICE_ROW.exec(line);
    if (!m || m[2] === "NAME") continue;
    const depth = m[1].length;
    if (NOT_DEVICES.test(m[2])) continue;
    const node: VdevNode = {
      name: m[2],
      state: m[3] !== undefined && STATE.test(m[3]) ? m[3] : null,
      // Depth 0 holds the pool's root vdev and the logs/cache/spares/special/dedup headings.
      structural: depth === 0,
      children: [],
    };
    while (stack.length > 0 && stack.at(-1)!.depth >= depth) stack.pop();
    const parent = stack.at(-1);
    if (parent) parent.node.children.push(node);
    else roots.push(node);
    stack.push({ depth, node });
  }
  return roots;
}

/** `errors:` → number of persistent data errors, or undefined if unrecognised. */
function dataErrors(section: Section): number | undefined {
  const first = section.lines[0].trim();
  if (first === "No known data errors") return 0;
  const m = /^(\d+) data errors?/.exec(first);
  if (m) return Number(m[1]);
  // With -v the files are listed instead of counted.
  if (first.startsWith("Permanent errors have been detected")) {
    return section.lines.slice(1).filter((l) => l.trim() !== "").length;
  }
  return undefined;
}

function poolStatus(
  block: readonly string[],
  toUnix: LocalTimeToUnix,
  errors: ErrorList,
): PoolStatus {
  const secs = sections(block);
  const field = (key: string) => secs.find((s) => s.key === key);
  const name = field("pool")!.lines[0].trim();
  const unrecognised = (what: string, section: Section) =>
    errors.push({
      tag: STATUS_TAG,
      message: `${name}: unrecognised ${what} line ${
        JSON.stringify(section.lines[0])
      }`,
    });

  // A pool can print a scrub line and a resilver/rebuild line; a running scan wins.
  const scans = secs.filter((s) => s.key === "scan").map((s) => {
    const scan = scanFromText(s.lines, toUnix);
    if (scan === undefined) unrecognised("scan", s);
    return scan ?? null;
  }).filter((s) => s !== null);
  const scan = scans.find((s) => s.state === "SCANNING") ?? scans[0] ?? null;

  const errorsSection = field("errors");
  let error_count: number | null = null;
  if (errorsSection) {
    error_count = dataErrors(errorsSection) ?? null;
    if (error_count === null) unrecognised("errors", errorsSection);
  }

  const config = field("config");
  return {
    name,
    state: field("state")?.lines[0].trim() ?? null,
    error_count,
    ...countVdevs(config ? configTree(config.lines) : []),
    scan,
    last_scrub_end: lastScrubEnd(
      scans.find((s) => s.function === "SCRUB") ?? null,
    ),
  };
}

/**
 * Parses `zpool status -p`. Times in `scan:` lines are local wall-clock times
 * (ctime), converted with `toUnix`, the node's time zone by default.
 */
export function parseZpoolStatusText(
  text: string,
  toUnix: LocalTimeToUnix = systemLocalTime,
): ParsedPools<PoolStatus> {
  const errors: ErrorList = [];
  const blocks: string[][] = [];
  for (const line of text.split("\n")) {
    if (/^ *pool: /.test(line)) blocks.push([]);
    blocks.at(-1)?.push(line);
  }
  const pools = blocks.map((block) => poolStatus(block, toUnix, errors));
  if (
    pools.length === 0 && text.trim() !== "" && !/no pools available/.test(text)
  ) {
    errors.push({
      tag: STATUS_TAG,
      message: `no "pool:" line in zpool status output`,
    });
  }
  return { pools, errors };
}

/** Each pool's vdev tree from `zpool status -p`, for mapping disks to vdevs. */
export function zpoolStatusTreesText(
  text: string,
): { pool: string; roots: VdevNode[] }[] {
  const blocks: string[][] = [];
  for (const line of text.split("\n")) {
    if (/^ *pool: /.test(line)) blocks.push([]);
    blocks.at(-1)?.push(line);
  }
  return blocks.map((block) => {
    const secs = sections(block);
    const config = secs.find((s) => s.key === "config");
    return {
      pool: secs.find((s) => s.key === "pool")!.lines[0].trim(),
      roots: config ? configTree(config.lines) : [],
    };
  });
}
