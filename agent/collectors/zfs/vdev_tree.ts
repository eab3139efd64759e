/**
 * Vdev health counting shared by the JSON and the text parsers, which both
 * reduce `zpool status` to the same tree first.
 */

export interface VdevNode {
  name: string;
  /** vdev_state_str / zpool_state_to_name, or null when the output has none */
  state: string | null;
  /** The pool's root vdev or a class heading (logs, cache, spares, …): structure, not a device. */
  structural: boolean;
  children: VdevNode[];
}

// Spares are AVAIL while idle and INUSE while standing in for a failed disk.
const HEALTHY = new Set(["ONLINE", "AVAIL", "INUSE"]);

/** Whether a vdev state counts as healthy. A missing state is not evidence of trouble. */
export function isHealthyState(state: string | null): boolean {
  return state === null || HEALTHY.has(state);
}

export interface VdevCounts {
  /** devices (leaf vdevs) in the pool, each counted once */
  vdev_count: number;
  /** unhealthy vdevs that are not unhealthy merely because of a device below them */
  degraded_vdev_count: number;
}

interface Seen {
  leaf: boolean;
  unhealthy: boolean;
  unhealthyBelow: boolean;
}

/**
 * Counts devices and degraded vdevs. `--json-flat-vdevs` lists a device at
 * several levels and an in-use spare appears both in its `spare-N` and in
 * the spares list, so vdevs are merged by name. A FAULTED disk inside a
 * raidz makes the raidz and the pool DEGRADED too; only the disk is counted,
 * so one failed disk reads as one degraded vdev. An interior vdev counts
 * only when nothing below it explains its state (e.g. its children carry no
 * state at all).
 */
export function countVdevs(roots: readonly VdevNode[]): VdevCounts {
  const seen = new Map<string, Seen>();
  const visit = (node: VdevNode): boolean => {
    let below = false;
    for (const child of node.children) below = visit(child) || below;
    if (node.structural) return below;
    const self = !isHealthyState(node.state);
    const entry = seen.get(node.name) ??
      { leaf: true, unhealthy: false, unhealthyBelow: false };
    entry.leaf &&= node.children.length === 0;
    entry.unhealthy ||= self;
    entry.unhealthyBelow ||= below;
    seen.set(node.name, entry);
    return self || below;
  };
  roots.forEach(visit);
  let vdev_count = 0;
  let degraded_vdev_count = 0;
  for (const entry of seen.values()) {
    if (entry.leaf) vdev_count++;
    if (entry.unhealthy && !entry.unhealthyBelow) degraded_vdev_count++;
  }
  return { vdev_count, degraded_vdev_count };
}
