/**
 * The host page's issue-17 sections: backups (per guest, uncovered guests,
 * per job), replication, SMART per disk beside its vdev, and temperatures.
 * Like host_sections.tsx, each carries an id and `data-live` so the live
 * script swaps it for a fresh copy.
 */
import type {
  BackupJob,
  GuestBackup,
  SmartDisk,
  TaskOutcome,
} from "@proxmon/shared";
import { formatAgo, formatBytes, formatDuration } from "../static/format.js";
import { HEALTH_DEFAULTS } from "../../health/health_findings.ts";
import {
  DetailTable,
  type HostSectionsProps,
  LiveSection,
} from "./host_sections.tsx";

const ago = (unix: number | null | undefined, now: number) =>
  formatAgo(unix === null || unix === undefined ? null : unix * 1000, now);

/** Each section's title (its id is `host-` and the key), and what it shows. */
const SECTIONS = {
  backups: { title: "Backups", data: "backup data" },
  replication: { title: "Replication", data: "replication data" },
  disks: { title: "Disks (SMART)", data: "SMART data" },
  temperatures: { title: "Temperatures", data: "temperatures" },
};
type HealthSection = keyof typeof SECTIONS;

function Section(
  props: { of: HealthSection; children: unknown; note?: string },
) {
  return (
    <LiveSection
      id={`host-${props.of}`}
      title={SECTIONS[props.of].title}
      note={props.note}
    >
      {props.children}
    </LiveSection>
  );
}

/** The section of data an agent older than 0.2 does not send, or has not sent yet. */
function NotCollected(props: { of: HealthSection }) {
  const what = SECTIONS[props.of].data;
  return (
    <Section of={props.of}>
      <p class="empty">
        {`No ${what} yet: this agent does not collect it (older than 0.2) or has not sent a sample.`}
      </p>
    </Section>
  );
}

function Result(props: { task: TaskOutcome | null }) {
  const t = props.task;
  if (!t) return <span class="muted">no task listed</span>;
  const cls = t.ok === null ? "" : t.ok ? "ok" : "critical";
  const text = t.ok === null ? "running" : t.status ?? (t.ok ? "OK" : "error");
  return <span class={`badge ${cls}`}>{text}</span>;
}

function guestRow(
  g: GuestBackup,
  name: string | undefined,
  now: number,
  uncovered: boolean,
) {
  const ageH = g.newest?.ctime_unix
    ? (now / 1000 - g.newest.ctime_unix) / 3600
    : null;
  const stale = !uncovered &&
    (ageH === null || ageH >= HEALTH_DEFAULTS.backupStaleHours);
  const failed = g.last_task?.ok === false;
  return (
    <tr
      class={failed ? "critical" : stale || uncovered ? "warning" : ""}
      data-vmid={g.vmid}
    >
      <th scope="row" data-label="Guest">
        {g.vmid}
        {name ? ` ${name}` : ""}
      </th>
      <td data-label="Last backup">
        {g.newest ? ago(g.newest.ctime_unix, now) : "none"}
        {uncovered ? " (in no job)" : ""}
      </td>
      <td data-label="Size" class="num">{formatBytes(g.newest?.size_bytes)}</td>
      <td data-label="Storage">{g.newest?.storage ?? "–"}</td>
      <td data-label="Result">
        <Result task={g.last_task} />
      </td>
      <td data-label="Archives" class="num">{g.archive_count ?? 0}</td>
    </tr>
  );
}

function jobGuests(j: BackupJob): string {
  if (j.all) {
    return j.exclude.length ? `all except ${j.exclude.join(", ")}` : "all";
  }
  if (j.pool) return `pool ${j.pool}`;
  return j.vmids.join(", ") || "–";
}

/** Per guest: last backup's age, size and result; uncovered guests; per job: last run. */
export function HostBackups(props: HostSectionsProps) {
  const b = props.snap.medium?.payload.backups;
  if (!b) return <NotCollected of="backups" />;
  const names = new Map(props.guests.map((g) => [g.vmid, g.name]));
  const uncovered = new Set(b.not_backed_up.map((g) => g.vmid));
  return (
    <Section
      of="backups"
      note={`Tasks read ${ago(b.tasks_read_at_unix, props.now)}; storages: ${
        b.storages.map((s) =>
          `${s.storage} (listed ${ago(s.listed_at_unix, props.now)})`
        )
          .join(", ") || "none"
      }.`}
    >
      {b.not_backed_up.length > 0 && (
        <p class="warning" id="backups-uncovered">
          Not in any backup job:{" "}
          {b.not_backed_up.map((g) => `${g.vmid}${g.name ? ` ${g.name}` : ""}`)
            .join(", ")}
        </p>
      )}
      <DetailTable
        label="Last backup per guest"
        head={["Guest", "Last backup", "Size", "Storage", "Result", "Archives"]}
        empty="No guests."
        rows={b.guests.map((g) =>
          guestRow(
            g,
            names.get(g.vmid) ?? undefined,
            props.now,
            uncovered.has(g.vmid),
          )
        )}
      />
      <h3>Jobs</h3>
      <DetailTable
        label="Backup jobs"
        head={["Job", "Schedule", "Storage", "Guests", "Next run", "Last run"]}
        empty="No backup jobs."
        rows={b.jobs.map((j) => (
          <tr
            class={j.last_run?.ok === false
              ? "critical"
              : j.enabled
              ? ""
              : "muted"}
            data-job={j.id}
          >
            <th scope="row" data-label="Job" class="mono">
              {j.id}
              {j.enabled ? "" : " (disabled)"}
            </th>
            <td data-label="Schedule">{j.schedule ?? "–"}</td>
            <td data-label="Storage">{j.storage ?? "–"}</td>
            <td data-label="Guests">{jobGuests(j)}</td>
            <td data-label="Next run">
              {j.next_run_unix
                ? new Date(j.next_run_unix * 1000).toISOString().slice(0, 16)
                  .replace("T", " ")
                : "–"}
            </td>
            <td data-label="Last run">
              <Result task={j.last_run} />
            </td>
          </tr>
        ))}
      />
    </Section>
  );
}

/** Storage replication jobs (pvesr). */
export function HostReplication(props: HostSectionsProps) {
  const r = props.snap.medium?.payload.replication;
  if (!r) return <NotCollected of="replication" />;
  return (
    <Section of="replication">
      <DetailTable
        label="Replication jobs"
        head={[
          "Job",
          "Guest",
          "Target",
          "Last sync",
          "Duration",
          "Failures",
          "Error",
        ]}
        empty="No replication jobs."
        rows={r.jobs.map((j) => (
          <tr
            class={(j.fail_count ?? 0) > 0 || j.error ? "critical" : ""}
            data-job={j.id}
          >
            <th scope="row" data-label="Job">
              {j.id}
              {j.enabled ? "" : " (disabled)"}
            </th>
            <td data-label="Guest" class="num">{j.guest}</td>
            <td data-label="Target">{j.target ?? "–"}</td>
            <td data-label="Last sync">
              {ago(j.last_sync_unix, props.now)}
            </td>
            <td data-label="Duration" class="num">
              {j.duration_seconds === null
                ? "–"
                : `${j.duration_seconds.toFixed(1)} s`}
            </td>
            <td data-label="Failures" class="num">{j.fail_count ?? 0}</td>
            <td data-label="Error">{j.error ?? ""}</td>
          </tr>
        ))}
      />
    </Section>
  );
}

function health(d: SmartDisk): { text: string; cls: string } {
  if (d.standby) return { text: "in standby", cls: "" };
  if (d.health_passed === false) return { text: "FAILED", cls: "critical" };
  if (d.health_passed === true) return { text: "passed", cls: "ok" };
  return { text: "unknown", cls: "" };
}

function counters(d: SmartDisk): string {
  if (d.standby) return "not read (asleep)";
  if (d.nvme) {
    return `wear ${d.nvme.percentage_used ?? "–"} %, spare ${
      d.nvme.available_spare ?? "–"
    } %, media errors ${d.nvme.media_errors ?? "–"}, unsafe shutdowns ${
      d.nvme.unsafe_shutdowns ?? "–"
    }`;
  }
  if (d.ata) {
    const rise = d.sectors_rising?.reallocated
      ? ` (+${d.sectors_rising.reallocated})`
      : "";
    return `reallocated ${d.ata.reallocated_sectors ?? "–"}${rise}, pending ${
      d.ata.pending_sectors ?? "–"
    }, offline unc. ${d.ata.offline_uncorrectable ?? "–"}, CRC ${
      d.ata.crc_errors ?? "–"
    }`;
  }
  return "–";
}

/** SMART per disk, grouped beside the pool vdev that uses it. */
export function HostDisks(props: HostSectionsProps) {
  const s = props.snap.slow?.payload.smart;
  if (!s) return <NotCollected of="disks" />;
  const order = (d: SmartDisk) =>
    d.vdev ? `0 ${d.vdev.pool} ${d.vdev.vdev} ${d.device}` : `1 ${d.device}`;
  const disks = [...s.disks].sort((a, b) => order(a) < order(b) ? -1 : 1);
  return (
    <Section of="disks">
      <DetailTable
        label="SMART per disk"
        head={[
          "Pool / vdev",
          "Disk",
          "Model",
          "Health",
          "Temp",
          "Power-on",
          "Counters",
        ]}
        empty="No disks reported."
        rows={disks.map((d) => {
          const h = health(d);
          const vdevBad = d.vdev?.state !== undefined &&
            d.vdev.state !== null &&
            d.vdev.state !== "ONLINE";
          const rising = (d.sectors_rising?.reallocated ?? 0) > 0 ||
            (d.sectors_rising?.pending ?? 0) > 0;
          return (
            <tr
              class={h.cls === "critical" || rising
                ? "critical"
                : vdevBad
                ? "warning"
                : ""}
              data-disk={d.device}
            >
              <th scope="row" data-label="Pool / vdev">
                {d.vdev
                  ? (
                    <>
                      {d.vdev.pool} / {d.vdev.vdev}{" "}
                      <span class={`badge ${vdevBad ? "critical" : "ok"}`}>
                        {d.vdev.state ?? "?"}
                      </span>
                    </>
                  )
                  : <span class="muted">not in a pool</span>}
              </th>
              <td data-label="Disk" class="mono">
                {d.device}
                {d.serial ? ` ${d.serial}` : ""}
              </td>
              <td data-label="Model">
                {d.model ?? "–"}
                {d.capacity_bytes ? `, ${formatBytes(d.capacity_bytes)}` : ""}
              </td>
              <td data-label="Health">
                <span class={`badge ${h.cls}`}>{h.text}</span>
              </td>
              <td data-label="Temp" class="num">
                {d.temperature_c === null ? "–" : `${d.temperature_c} °C`}
              </td>
              <td data-label="Power-on" class="num">
                {d.power_on_hours === null
                  ? "–"
                  : formatDuration(d.power_on_hours * 3600)}
              </td>
              <td data-label="Counters">{counters(d)}</td>
            </tr>
          );
        })}
      />
    </Section>
  );
}

const deg = (c: number | null | undefined) =>
  c === null || c === undefined ? "–" : `${Math.round(c * 10) / 10} °C`;

/** CPU package, hottest core, NVMe composite and board sensors. */
export function HostTemperatures(props: HostSectionsProps) {
  const t = props.snap.medium?.payload.temperatures;
  if (!t) return <NotCollected of="temperatures" />;
  return (
    <Section
      of="temperatures"
      note={t.source === null
        ? "No sensors found."
        : `From ${t.source === "sensors" ? "lm-sensors" : "/sys/class/hwmon"}.`}
    >
      <dl class="stats">
        <div class="stat">
          <dt>CPU package</dt>
          <dd>{deg(t.cpu_package_c)}</dd>
        </div>
        <div class="stat">
          <dt>Hottest core</dt>
          <dd>{deg(t.cpu_core_max_c)}</dd>
        </div>
        {t.nvme.map((n) => (
          <div
            class={`stat ${
              (n.composite_c ?? 0) >= HEALTH_DEFAULTS.diskTemperatureC
                ? "warning"
                : ""
            }`}
          >
            <dt>NVMe {n.device}</dt>
            <dd>{deg(n.composite_c)}</dd>
          </div>
        ))}
        {t.board.map((b) => (
          <div class="stat">
            <dt>{b.label}</dt>
            <dd>{deg(b.celsius)}</dd>
          </div>
        ))}
      </dl>
    </Section>
  );
}
