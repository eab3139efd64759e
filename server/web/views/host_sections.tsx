/**
 * The parts of the host page that change with each sample. Each carries an
 * id and `data-live`, so the live script can swap it for a fresh copy from
 * `/fragments/hosts/:name` without touching the rest of the page.
 */
import type { CollectorError, StorageEntry, ZfsPool } from "@proxmon/shared";
import type { GuestRow } from "../guest_list.ts";
import type { HostOverview, HostSnapshot } from "../host_overview.ts";
import {
  diskRates,
  memoryBreakdown,
  nicRates,
  POOL_CAPACITY_LIMIT,
  poolHealth,
  poolProblems,
  STORAGE_USE_LIMIT,
} from "../../host_state.ts";
import {
  formatAgo,
  formatBytes,
  formatDuration,
  formatNumber,
  formatPercent,
  formatRate,
} from "../static/format.js";
import { UsageMeter } from "./meter.tsx";
import {
  HostBackups,
  HostDisks,
  HostReplication,
  HostTemperatures,
} from "./host_health_sections.tsx";

export interface HostSectionsProps {
  snap: HostSnapshot;
  overview: HostOverview;
  guests: GuestRow[];
  now: number;
}

const ago = (unixSeconds: number | null, now: number) =>
  formatAgo(unixSeconds === null ? null : unixSeconds * 1000, now);

/** The page heading: status, last contact and problems. */
export function HostHeader(props: HostSectionsProps) {
  const { overview: s, snap, now } = props;
  return (
    <header id="host-header" class="host-header" data-live>
      <h1>
        {s.name}{" "}
        <span class={`badge ${s.online ? "ok" : "critical"}`}>
          {s.online ? "online" : "offline"}
        </span>
      </h1>
      <p class="muted">
        Last seen{" "}
        <time class="ago" data-ts={s.lastSeenAt ?? undefined}>
          {formatAgo(s.lastSeenAt, now)}
        </time>
        {snap.fast && (
          <>
            {" · newest sample "}
            <time class="ago" data-ts={snap.fast.collectedAtMs}>
              {formatAgo(snap.fast.collectedAtMs, now)}
            </time>
          </>
        )}
      </p>
      {s.problems.length > 0 && (
        <ul class="problems" aria-label="Problems">
          {s.problems.map((p) => <li class={p.severity}>{p.text}</li>)}
        </ul>
      )}
    </header>
  );
}

function Stat(props: { label: string; children: unknown }) {
  return (
    <div class="stat">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

/** Current host figures from the latest fast sample. */
export function HostNow(props: HostSectionsProps) {
  const h = props.snap.fast?.payload.host;
  if (!h) {
    return (
      <section id="host-now" data-live>
        <p class="empty">No sample yet.</p>
      </section>
    );
  }
  const memUsed = props.overview.memUsed;
  // The same NICs-only totals as the charts and the API (host_state.ts).
  const net = nicRates(h);
  const disk = diskRates(h);
  const mem = memoryBreakdown(h);
  const psi = h.psi;
  const psiText = (p: { some_avg10: number | null } | null | undefined) =>
    p ? formatPercent(p.some_avg10) : "–";
  return (
    <section id="host-now" aria-label="Current figures" data-live>
      <dl class="stats">
        <Stat label="CPU">{formatPercent(h.cpu_percent)}</Stat>
        <Stat label="Memory">
          <UsageMeter
            fraction={memUsed !== null && h.mem_total_bytes
              ? memUsed / h.mem_total_bytes
              : null}
            warnAt={0.85}
            label="Memory used by processes"
            text={`${formatBytes(memUsed)} / ${formatBytes(h.mem_total_bytes)}`}
          />
          {mem && (
            <span class="mem-split" data-testid="mem-split">
              processes {formatBytes(mem.used)} · ARC {formatBytes(mem.arc)}
              {" "}
              · free {formatBytes(mem.free)}
            </span>
          )}
        </Stat>
        {h.arc && (
          <Stat label="ZFS ARC">
            {formatBytes(h.arc.size_bytes)} of {formatBytes(h.arc.c_max_bytes)}
            {" "}
            max, hit ratio {h.arc.hit_ratio === null
              ? "–"
              : formatPercent(h.arc.hit_ratio * 100)}
          </Stat>
        )}
        {psi && (
          <Stat label="Pressure cpu / mem / io (10 s)">
            {psiText(psi.cpu)} / {psiText(psi.memory)} / {psiText(psi.io)}
          </Stat>
        )}
        <Stat label="Swap">
          {formatBytes(h.swap_used_bytes)} / {formatBytes(h.swap_total_bytes)}
        </Stat>
        <Stat label="Load 1/5/15">
          {[h.load1, h.load5, h.load15].map(formatNumber).join(" ")}
        </Stat>
        <Stat label="Uptime">{formatDuration(h.uptime_seconds)}</Stat>
        <Stat label="Root FS">
          {h.root_fs
            ? (
              <UsageMeter
                fraction={h.root_fs.size_bytes && h.root_fs.used_bytes !== null
                  ? h.root_fs.used_bytes / h.root_fs.size_bytes
                  : null}
                warnAt={STORAGE_USE_LIMIT}
                label="Root file system used"
                text={`${formatBytes(h.root_fs.used_bytes)} / ${
                  formatBytes(h.root_fs.size_bytes)
                }`}
              />
            )
            : "–"}
        </Stat>
        <Stat label="Network in / out (NICs)">
          {formatRate(net.rx)} / {formatRate(net.tx)}
        </Stat>
        <Stat label="Disk read / write">
          {formatRate(disk.read)} / {formatRate(disk.write)}
        </Stat>
      </dl>
    </section>
  );
}

function scanText(pool: ZfsPool): string {
  const scan = pool.scan;
  if (!scan || scan.function === null || scan.function === "NONE") {
    return "none";
  }
  const what = scan.function.toLowerCase();
  if (scan.state === "SCANNING") {
    return `${what} running, ${formatPercent(scan.progress_percent)}`;
  }
  return `${what} ${scan.state?.toLowerCase() ?? "state unknown"}`;
}

function PoolRow(props: { pool: ZfsPool; now: number }) {
  const p = props.pool;
  const problems = poolProblems(p, props.now);
  const level = problems.some((x) => x.severity === "critical")
    ? "critical"
    : problems.length > 0
    ? "warning"
    : "ok";
  return (
    <tr class={level} data-pool={p.name}>
      <th scope="row" data-label="Pool">{p.name}</th>
      <td data-label="Health">
        <span class={`badge ${poolHealth(p) === "ONLINE" ? "ok" : "critical"}`}>
          {p.health ?? "unknown"}
        </span>
      </td>
      <td data-label="Capacity">
        <UsageMeter
          fraction={p.capacity_percent === null
            ? null
            : p.capacity_percent / 100}
          warnAt={POOL_CAPACITY_LIMIT / 100}
          label={`Capacity of pool ${p.name}`}
          text={`${formatPercent(p.capacity_percent)} of ${
            formatBytes(p.size_bytes)
          }`}
        />
      </td>
      <td data-label="Fragmentation" class="num">
        {formatPercent(p.fragmentation_percent)}
      </td>
      <td data-label="Errors" class="num">{p.error_count ?? "–"}</td>
      <td data-label="Degraded vdevs" class="num">
        {p.degraded_vdev_count} of {p.vdev_count}
      </td>
      <td data-label="Scan">{scanText(p)}</td>
      <td data-label="Last scrub">{ago(p.last_scrub_end, props.now)}</td>
    </tr>
  );
}

export interface DetailTableProps {
  head: string[];
  rows: unknown[];
  /** the one row across all columns when there are no rows */
  empty: string;
  /** the table's accessible name, where no heading names it */
  label?: string;
}

/** A table of the host page: column heads, then the rows or `empty`. */
export function DetailTable(props: DetailTableProps) {
  return (
    <div class="table-wrap">
      <table
        class="detail"
        {...(props.label === undefined ? {} : { "aria-label": props.label })}
      >
        <thead>
          <tr>{props.head.map((h) => <th scope="col">{h}</th>)}</tr>
        </thead>
        <tbody>
          {props.rows.length === 0
            ? <EmptyRow span={props.head.length} text={props.empty} />
            : props.rows}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A section of the host page that the live script swaps for a fresh copy
 * (`data-live`), headed by its title; `note` is a muted line under it.
 */
export function LiveSection(
  props: { id: string; title: string; note?: string; children: unknown },
) {
  return (
    <section id={props.id} aria-labelledby={`${props.id}-title`} data-live>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      {props.note && <p class="muted">{props.note}</p>}
      {props.children}
    </section>
  );
}

/** A live section of its own holding one detail table. */
function Table(props: DetailTableProps & { id: string; title: string }) {
  return (
    <LiveSection id={props.id} title={props.title}>
      <DetailTable {...props} />
    </LiveSection>
  );
}

/** ZFS pools with health, capacity and scrub state. */
export function HostPools(props: HostSectionsProps) {
  const pools = props.snap.fast?.payload.zfs_pools.pools ?? [];
  return (
    <Table
      id="host-pools"
      title="ZFS pools"
      head={[
        "Pool",
        "Health",
        "Capacity",
        "Fragmentation",
        "Errors",
        "Degraded vdevs",
        "Scan",
        "Last scrub",
      ]}
      empty="No pools."
      rows={pools.map((p) => <PoolRow pool={p} now={props.now} />)}
    />
  );
}

/** A table row saying the table has nothing, across its `span` columns. */
export function EmptyRow(props: { span: number; text: string }) {
  return (
    <tr>
      <td colspan={props.span} class="muted">{props.text}</td>
    </tr>
  );
}

/** ZFS datasets and volumes with snapshot counts and ages. */
export function HostDatasets(props: HostSectionsProps) {
  const datasets = props.snap.medium?.payload.zfs_datasets.datasets ?? [];
  return (
    <Table
      id="host-datasets"
      title="Datasets"
      head={[
        "Dataset",
        "Type",
        "Used",
        "Available",
        "Snapshots",
        "Snapshot space",
        "Newest",
        "Oldest",
      ]}
      empty="No datasets reported yet."
      rows={datasets.map((d) => (
        <tr>
          <th scope="row" data-label="Dataset" class="mono">{d.name}</th>
          <td data-label="Type">{d.type}</td>
          <td data-label="Used" class="num">{formatBytes(d.used_bytes)}</td>
          <td data-label="Available" class="num">
            {formatBytes(d.available_bytes)}
          </td>
          <td data-label="Snapshots" class="num">{d.snapshot_count}</td>
          <td data-label="Snapshot space" class="num">
            {formatBytes(d.usedbysnapshots_bytes)}
          </td>
          <td data-label="Newest">
            {ago(d.newest_snapshot_unix, props.now)}
          </td>
          <td data-label="Oldest">
            {ago(d.oldest_snapshot_unix, props.now)}
          </td>
        </tr>
      ))}
    />
  );
}

function storageState(s: StorageEntry): string {
  if (!s.enabled) return "disabled";
  return s.active ? "active" : "inactive";
}

/** PVE storages with usage bars. */
export function HostStorages(props: HostSectionsProps) {
  const storages = props.snap.fast?.payload.storage.storages ?? [];
  return (
    <Table
      id="host-storages"
      title="Storage"
      head={["Storage", "Type", "Content", "State", "Usage"]}
      empty="No storages."
      rows={storages.map((s) => (
        <tr
          class={s.used_fraction !== null &&
              s.used_fraction >= STORAGE_USE_LIMIT
            ? "warning"
            : ""}
        >
          <th scope="row" data-label="Storage">{s.name}</th>
          <td data-label="Type">{s.type}{s.shared ? " (shared)" : ""}</td>
          <td data-label="Content">{s.content.join(", ")}</td>
          <td data-label="State">{storageState(s)}</td>
          <td data-label="Usage">
            <UsageMeter
              fraction={s.used_fraction}
              warnAt={STORAGE_USE_LIMIT}
              label={`Usage of storage ${s.name}`}
              text={`${formatBytes(s.used_bytes)} / ${
                formatBytes(s.total_bytes)
              }`}
            />
          </td>
        </tr>
      ))}
    />
  );
}

/** The guest rows; the table head and filter stay put around them. */
export function GuestRows(props: { guests: GuestRow[]; host?: string }) {
  return (
    <tbody id="guest-rows" data-live>
      {props.guests.length === 0
        ? <EmptyRow span={10} text="No guests." />
        : props.guests.map((g) => (
          <tr class={g.status === "running" ? "" : "dim"} data-vmid={g.vmid}>
            <td data-label="VMID" class="num" data-value={g.vmid}>{g.vmid}</td>
            <td data-label="Type">{g.type === "qemu" ? "VM" : "CT"}</td>
            <th scope="row" data-label="Name">
              {props.host
                ? (
                  <a
                    href={`/hosts/${
                      encodeURIComponent(props.host)
                    }/guests/${g.vmid}`}
                  >
                    {g.name}
                  </a>
                )
                : g.name}
              {g.template && <span class="badge">template</span>}
            </th>
            <td data-label="Status">
              <span class={`badge ${g.status === "running" ? "ok" : ""}`}>
                {g.status}
              </span>
            </td>
            <td data-label="CPU" class="num" data-value={g.cpuUsage ?? -1}>
              {g.cpuUsage === null ? "–" : formatPercent(g.cpuUsage * 100)}
            </td>
            <td data-label="Memory" class="num" data-value={g.memBytes ?? -1}>
              {formatBytes(g.memBytes)} / {formatBytes(g.maxMemBytes)}
            </td>
            <td
              data-label="Disk"
              class="num"
              data-value={g.diskUsedBytes ?? -1}
              title={g.diskSource === "agent"
                ? "file systems the guest agent reports"
                : g.diskSource === "runtime"
                ? "the container's root disk"
                : undefined}
            >
              {g.diskUsedBytes === null
                ? <span class="muted">–</span>
                : (
                  <UsageMeter
                    fraction={g.diskTotalBytes
                      ? g.diskUsedBytes / g.diskTotalBytes
                      : null}
                    warnAt={STORAGE_USE_LIMIT}
                    label={`Disk used in guest ${g.vmid}`}
                    text={`${formatBytes(g.diskUsedBytes)} / ${
                      formatBytes(g.diskTotalBytes)
                    }`}
                  />
                )}
            </td>
            <td
              data-label="Uptime"
              class="num"
              data-value={g.uptimeSeconds ?? -1}
            >
              {g.status === "running" ? formatDuration(g.uptimeSeconds) : "–"}
            </td>
            <td data-label="Tags">
              {g.tags.map((t) => <span class="tag">{t}</span>)}
            </td>
            <td data-label="IPs" class="ips mono">
              {g.ips === null
                ? <span class="muted">not yet known</span>
                : g.ips.length === 0
                ? <span class="muted">–</span>
                : g.ips.map((ip) => <span class="ip">{ip}</span>)}
            </td>
          </tr>
        ))}
    </tbody>
  );
}

/**
 * The userland ZFS version, plus the loaded module's when it differs: after
 * an upgrade without a reboot the two disagree, and the admin should know.
 */
export function zfsVersionText(
  userland: string | null,
  kmod: unknown,
): string {
  if (userland === null) return "–";
  return typeof kmod === "string" && kmod !== userland
    ? `${userland} (loaded module ${kmod}: reboot pending)`
    : userland;
}

/** Versions and pending updates from the slow sample. */
export function HostSystem(props: HostSectionsProps) {
  const info = props.snap.slow?.payload.system_info;
  return (
    <section id="host-system" aria-labelledby="host-system-title" data-live>
      <h2 id="host-system-title">System</h2>
      {info
        ? (
          <dl class="stats system">
            <Stat label="PVE version">{info.pve_version ?? "–"}</Stat>
            <Stat label="Kernel">{info.kernel ?? "–"}</Stat>
            <Stat label="ZFS version">
              {zfsVersionText(info.zfs_version, info.zfs_kmod_version)}
            </Stat>
            <Stat label="Pending updates">{info.pending_updates ?? "–"}</Stat>
            <Stat label="Agent version">{info.agent_version}</Stat>
          </dl>
        )
        : <p class="empty">No system information reported yet.</p>}
    </section>
  );
}

/** Errors the agent's collectors reported with the latest samples. */
export function HostErrors(props: HostSectionsProps) {
  const { fast, medium, slow } = props.snap;
  const errors: CollectorError[] = [
    ...(fast?.payload.host.errors ?? []),
    ...(fast?.payload.zfs_pools.errors ?? []),
    ...(fast?.payload.storage.errors ?? []),
    ...(fast?.payload.vms_runtime.errors ?? []),
    ...(medium?.payload.zfs_datasets.errors ?? []),
    ...(medium?.payload.vms_detail.errors ?? []),
    ...(slow?.payload.system_info.errors ?? []),
    ...(medium?.payload.backups?.errors ?? []),
    ...(medium?.payload.replication?.errors ?? []),
    ...(medium?.payload.temperatures?.errors ?? []),
    ...(slow?.payload.smart?.errors ?? []),
  ];
  return (
    <section id="host-errors" data-live hidden={errors.length === 0}>
      <h2>Collector errors</h2>
      <ul class="errors">
        {errors.map((e) => (
          <li>
            <code>{e.tag}</code> {e.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** How many guests run, beside the guests heading. */
export function GuestCount(props: { guests: GuestRow[] }) {
  // Templates never run, so they would only blur the count.
  const guests = props.guests.filter((g) => !g.template);
  const running = guests.filter((g) => g.status === "running").length;
  return (
    <span id="guest-count" class="muted" data-live>
      {running} of {guests.length} running
    </span>
  );
}

/**
 * Every live section, for the fragment endpoint. The guest rows travel in a
 * table of their own, because an HTML parser drops a bare <tbody>.
 */
export function HostLiveSections(props: HostSectionsProps) {
  return (
    <>
      <HostHeader {...props} />
      <HostNow {...props} />
      <HostPools {...props} />
      <HostDisks {...props} />
      <HostDatasets {...props} />
      <HostStorages {...props} />
      <HostBackups {...props} />
      <HostReplication {...props} />
      <HostTemperatures {...props} />
      <GuestCount guests={props.guests} />
      <table>
        <GuestRows guests={props.guests} host={props.overview.name} />
      </table>
      <HostSystem {...props} />
      <HostErrors {...props} />
    </>
  );
}
