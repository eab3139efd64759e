/**
 * smartmontools 7+ JSON (`-j`): `smartctl --scan-open -j` lists the disks,
 * `smartctl -a -j -n standby -d TYPE DEVICE` reads one. smartctl's exit
 * status is a bit mask (smartctl(8) "RETURN VALUES"): bit 1 = the device
 * could not be opened *or* is in a low-power mode (`-n standby`), bit 3 =
 * SMART says the disk is failing; bits 4–7 flag attribute and log history.
 * So a non-zero exit is normal, and stdout still holds the JSON.
 */
import type {
  AtaHealth,
  CollectorError,
  NvmeHealth,
  SmartDisk,
} from "@proxmon/shared";
import { parseJson } from "../exec.ts";
import { type ErrorList, isRecord, stringOr, toNumber } from "../values.ts";

export const SMART_TAG = "smart";

export interface ScannedDisk {
  device: string;
  type: string | null;
  protocol: string | null;
}

/** Parses `smartctl --scan-open -j`. Devices smartctl could not open come back as errors. */
export function parseSmartctlScan(
  text: string,
): { disks: ScannedDisk[]; errors: CollectorError[] } {
  const parsed = parseJson(text, SMART_TAG, "smartctl --scan-open -j");
  if (!parsed.ok) return { disks: [], errors: [parsed.error] };
  const errors: ErrorList = [];
  const root = parsed.value;
  const devices = isRecord(root) && Array.isArray(root.devices)
    ? root.devices
    : [];
  const disks = devices.flatMap((d): ScannedDisk[] => {
    if (!isRecord(d)) return [];
    const device = stringOr(d.name);
    if (device === null) return [];
    const openError = stringOr(d.open_error);
    if (openError !== null) {
      errors.push({ tag: SMART_TAG, message: `${device}: ${openError}` });
      return [];
    }
    return [{ device, type: stringOr(d.type), protocol: stringOr(d.protocol) }];
  });
  return { disks, errors };
}

const LOW_POWER = /\b(STANDBY|SLEEP|IDLE)\b/;

function messages(
  root: Record<string, unknown>,
): { text: string; severity: string | null }[] {
  const smartctl = isRecord(root.smartctl) ? root.smartctl : {};
  if (!Array.isArray(smartctl.messages)) return [];
  return smartctl.messages.flatMap((m) =>
    isRecord(m) && typeof m.string === "string"
      ? [{ text: m.string, severity: stringOr(m.severity) }]
      : []
  );
}

function ataAttribute(
  root: Record<string, unknown>,
  id: number,
  errors: ErrorList,
): number | null {
  const attrs = isRecord(root.ata_smart_attributes)
    ? root.ata_smart_attributes.table
    : null;
  if (!Array.isArray(attrs)) return null;
  const attr = attrs.find((a) => isRecord(a) && a.id === id);
  if (!isRecord(attr) || !isRecord(attr.raw)) return null;
  return toNumber(attr.raw.value, `attribute ${id}`, SMART_TAG, errors);
}

function wwnOf(root: Record<string, unknown>): string | null {
  const w = root.wwn;
  if (
    !isRecord(w) || typeof w.naa !== "number" || typeof w.oui !== "number" ||
    typeof w.id !== "number"
  ) {
    return null;
  }
  // udev's wwn-0x… name: NAA (1 hex digit), OUI (6), vendor id (9)
  return `0x${w.naa.toString(16)}${w.oui.toString(16).padStart(6, "0")}${
    w.id.toString(16).padStart(9, "0")
  }`;
}

export interface SmartReading {
  /** null when smartctl could not read the disk at all (the reason is in `errors`); `vdev` is null here */
  disk: SmartDisk | null;
  wwn: string | null;
  /** smartctl could not open the device for lack of privileges */
  permissionDenied: boolean;
  errors: CollectorError[];
}

/**
 * Parses `smartctl -a -j -n standby` for `scanned`. `exitCode` is smartctl's
 * exit status (0 when it exited cleanly).
 */
export function parseSmartctl(
  text: string,
  exitCode: number,
  scanned: ScannedDisk,
): SmartReading {
  const device = scanned.device;
  const parsed = parseJson(text, SMART_TAG, `smartctl ${device}`);
  if (!parsed.ok || !isRecord(parsed.value)) {
    return {
      disk: null,
      wwn: null,
      permissionDenied: false,
      errors: [
        parsed.ok
          ? { tag: SMART_TAG, message: `${device}: not a JSON object` }
          : parsed.error,
      ],
    };
  }
  const root = parsed.value;
  const errors: ErrorList = [];
  const notes = messages(root);
  const powerMode = isRecord(root.power_mode)
    ? stringOr(root.power_mode.name)
    : null;
  const base = {
    device,
    type: scanned.type,
    protocol: scanned.protocol,
    model: stringOr(root.model_name) ?? stringOr(root.scsi_model_name),
    serial: stringOr(root.serial_number),
    capacity_bytes: isRecord(root.user_capacity)
      ? toNumber(
        root.user_capacity.bytes,
        "user_capacity.bytes",
        SMART_TAG,
        errors,
      )
      : null,
  };
  // -n standby: smartctl stops before reading SMART and exits with bit 1 set.
  const standby = (exitCode & 2) !== 0 &&
    ((powerMode !== null && LOW_POWER.test(powerMode)) ||
      notes.some((n) => /Device is in .*mode/.test(n.text)));
  if (standby) {
    return {
      disk: {
        ...base,
        standby: true,
        health_passed: null,
        temperature_c: null,
        power_on_hours: null,
        ata: null,
        nvme: null,
        vdev: null,
        sectors_rising: null,
      },
      wwn: wwnOf(root),
      permissionDenied: false,
      errors,
    };
  }
  const failures = notes.filter((n) => n.severity === "error");
  if ((exitCode & 2) !== 0 && base.model === null && base.serial === null) {
    const text = failures.map((f) => f.text).join("; ") ||
      `exit status ${exitCode}`;
    return {
      disk: null,
      wwn: null,
      permissionDenied: /Permission denied|Operation not permitted/i.test(text),
      errors: [{ tag: SMART_TAG, message: `${device}: ${text}` }],
    };
  }
  const status = isRecord(root.smart_status)
    ? root.smart_status.passed
    : undefined;
  const health_passed = typeof status === "boolean"
    ? status
    : (exitCode & 8) !== 0
    ? false
    : null;
  const nvmeLog = isRecord(root.nvme_smart_health_information_log)
    ? root.nvme_smart_health_information_log
    : null;
  const num = (v: unknown, field: string) =>
    toNumber(v, `${device}.${field}`, SMART_TAG, errors);
  const nvme: NvmeHealth | null = nvmeLog === null ? null : {
    percentage_used: num(nvmeLog.percentage_used, "percentage_used"),
    available_spare: num(nvmeLog.available_spare, "available_spare"),
    media_errors: num(nvmeLog.media_errors, "media_errors"),
    unsafe_shutdowns: num(nvmeLog.unsafe_shutdowns, "unsafe_shutdowns"),
  };
  const ata: AtaHealth | null = isRecord(root.ata_smart_attributes)
    ? {
      reallocated_sectors: ataAttribute(root, 5, errors),
      pending_sectors: ataAttribute(root, 197, errors),
      offline_uncorrectable: ataAttribute(root, 198, errors),
      crc_errors: ataAttribute(root, 199, errors),
    }
    : null;
  const temperature = isRecord(root.temperature)
    ? num(root.temperature.current, "temperature.current")
    : nvmeLog !== null
    ? num(nvmeLog.temperature, "temperature")
    : null;
  const hours = isRecord(root.power_on_time)
    ? num(root.power_on_time.hours, "power_on_time.hours")
    : nvmeLog !== null
    ? num(nvmeLog.power_on_hours, "power_on_hours")
    : null;
  return {
    disk: {
      ...base,
      standby: false,
      health_passed,
      temperature_c: temperature,
      power_on_hours: hours,
      ata,
      nvme,
      vdev: null,
      sectors_rising: null,
    },
    wwn: wwnOf(root),
    permissionDenied: false,
    errors,
  };
}
