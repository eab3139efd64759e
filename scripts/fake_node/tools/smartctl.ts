/**
 * The fake `smartctl` (smartmontools 7.4 JSON): `--scan-open -j` and
 * `-a -j -n standby [-d TYPE] DEVICE`, in the shapes of the real outputs in
 * fixtures/smart (scrutiny and smartctl_exporter test data). The exit status
 * is smartctl's bit mask: 2 for a device it cannot open or that sleeps
 * (with `-n standby`), 8 when SMART says the disk is failing.
 */
import type { DiskModel } from "../health_model.ts";
import { reallocatedAt } from "../health_model.ts";
import type { NodeModel } from "../node_model.ts";
import { level } from "../waves.ts";
import { fail, type ToolResult } from "./tool_result.ts";

const VERSION = {
  version: [7, 4],
  pre_release: false,
  svn_revision: "5530",
  build_info: "(local build)",
};

const header = (
  model: NodeModel,
  argv: string[],
  exit: number,
  messages?: unknown[],
) => ({
  json_format_version: [1, 0],
  smartctl: {
    ...VERSION,
    platform_info: `x86_64-linux-${model.kernel}`,
    argv: ["smartctl", ...argv],
    ...(messages ? { messages } : {}),
    exit_status: exit,
  },
});

const out = (value: unknown, code: number): ToolResult => ({
  stdout: `${JSON.stringify(value, null, 2)}\n`,
  stderr: "",
  code,
});

function deviceOf(d: DiskModel) {
  return d.nvme
    ? { name: d.device, info_name: d.device, type: "nvme", protocol: "NVMe" }
    : {
      name: d.device,
      info_name: `${d.device} [SAT]`,
      type: "sat",
      protocol: "ATA",
    };
}

function attr(id: number, name: string, raw: number, value = 100, thresh = 0) {
  return {
    id,
    name,
    value,
    worst: value,
    thresh,
    when_failed: "",
    flags: {
      value: 50,
      string: "-O--CK ",
      prefailure: id === 5,
      updated_online: true,
    },
    raw: { value: raw, string: String(raw) },
  };
}

function ataBody(d: DiskModel, nowUnix: number) {
  const realloc = reallocatedAt(d.def, nowUnix);
  const temp = Math.round(
    d.def.temperature + level(`${d.byId}:t`, 0, 1, nowUnix),
  );
  return {
    model_name: d.model,
    serial_number: d.serial,
    wwn: { naa: 5, oui: 3152, id: 1_000_000 + (d.serial.length * 7919) },
    firmware_version: "81.00A81",
    user_capacity: {
      blocks: Math.floor(d.capacityBytes / 512),
      bytes: d.capacityBytes,
    },
    logical_block_size: 512,
    physical_block_size: 4096,
    rotation_rate: 5400,
    smart_status: { passed: d.def.health === "passed" },
    ata_smart_attributes: {
      revision: 16,
      table: [
        attr(1, "Raw_Read_Error_Rate", 0, 100, 16),
        attr(5, "Reallocated_Sector_Ct", realloc, realloc > 0 ? 99 : 100, 5),
        attr(
          9,
          "Power_On_Hours",
          d.def.power_on_hours + Math.floor(nowUnix / 3600) % 1000,
        ),
        attr(194, "Temperature_Celsius", temp),
        attr(197, "Current_Pending_Sector", d.def.pending),
        attr(198, "Offline_Uncorrectable", 0),
        attr(199, "UDMA_CRC_Error_Count", d.def.crc_errors),
      ],
    },
    power_on_time: {
      hours: d.def.power_on_hours + Math.floor(nowUnix / 3600) % 1000,
    },
    power_cycle_count: 41,
    temperature: { current: temp },
  };
}

function nvmeBody(d: DiskModel, model: NodeModel, nowUnix: number) {
  const index = model.health.disks.filter((x) => x.nvme).indexOf(d);
  const base = model.health.temperatures.nvme[index] ?? d.def.temperature;
  const temp = Math.round(base + level(`${d.byId}:t`, 0, 1, nowUnix));
  const hours = d.def.power_on_hours + Math.floor(nowUnix / 3600) % 1000;
  return {
    model_name: d.model,
    serial_number: d.serial,
    firmware_version: "5B2QGXA7",
    nvme_pci_vendor: { id: 5197, subsystem_id: 5197 },
    user_capacity: {
      blocks: Math.floor(d.capacityBytes / 512),
      bytes: d.capacityBytes,
    },
    logical_block_size: 512,
    smart_status: { passed: d.def.health === "passed", nvme: { value: 0 } },
    nvme_smart_health_information_log: {
      critical_warning: 0,
      temperature: temp,
      available_spare: 100,
      available_spare_threshold: 10,
      percentage_used: d.def.percentage_used,
      data_units_read: 90_000_000,
      data_units_written: 120_000_000,
      power_cycles: 41,
      power_on_hours: hours,
      unsafe_shutdowns: d.def.unsafe_shutdowns,
      media_errors: d.def.media_errors,
      num_err_log_entries: 0,
    },
    temperature: { current: temp },
    power_cycle_count: 41,
    power_on_time: { hours },
  };
}

/** Answers one smartctl command line at `nowMs`. */
export function smartctl(
  model: NodeModel,
  args: string[],
  nowMs: number,
): ToolResult {
  const nowUnix = Math.floor(nowMs / 1000);
  const disks = model.health.disks;
  if (args.includes("--scan-open") || args.includes("--scan")) {
    return out({ ...header(model, args, 0), devices: disks.map(deviceOf) }, 0);
  }
  const device = args.at(-1) ?? "";
  if (
    !args.includes("-j") || !(args.includes("-a") || args.includes("--all"))
  ) {
    return fail(
      "fake smartctl: only --scan-open -j and -a -j [-n standby] [-d TYPE] DEVICE are simulated\n",
      1,
    );
  }
  const disk = disks.find((d) => d.device === device);
  if (!disk) {
    return out(
      header(model, args, 2, [{
        string: `Smartctl open device: ${device} failed: No such device`,
        severity: "error",
      }]),
      2,
    );
  }
  const standbyAsked = args.join(" ").includes("-n standby");
  if (standbyAsked && disk.def.standby && !disk.nvme) {
    return out({
      ...header(model, args, 2, [{
        string: "Device is in STANDBY mode, exit(2)",
        severity: "information",
      }]),
      local_time: { time_t: nowUnix, asctime: new Date(nowMs).toUTCString() },
      device: deviceOf(disk),
      power_mode: { ata_value: 0, name: "STANDBY" },
    }, 2);
  }
  const exit = disk.def.health === "failed" ? 8 : 0;
  const body = disk.nvme
    ? nvmeBody(disk, model, nowUnix)
    : ataBody(disk, nowUnix);
  return out({
    ...header(model, args, exit),
    local_time: { time_t: nowUnix, asctime: new Date(nowMs).toUTCString() },
    device: deviceOf(disk),
    ...body,
  }, exit);
}
