/**
 * CPU, NVMe and board temperatures from lm-sensors (`sensors -j`) or, where
 * lm-sensors is not installed, straight from /sys/class/hwmon. Both are
 * reduced to chips (a driver name plus labelled readings in °C) and then
 * classified by driver, as lm-sensors names chips `<driver>-<bus>-<addr>`:
 *
 * - `coretemp` (Intel): `Package id N` is a package, `Core N` a core;
 * - `k10temp`/`zenpower` (AMD): `Tdie` (the real die temperature) or, where
 *   there is none, `Tctl` is the package; `TccdN` are the core complexes;
 * - `nvme`: `Composite` is the drive's own summary temperature;
 * - Super I/O and ACPI chips (`nct…`, `it8…`, `f71…`, `w83…`, `acpitz`,
 *   `pch_…`) are the board. Their unwired inputs read nonsense (an nct6798
 *   reports 108–120 °C and −1 °C on unconnected AUXTIN pins), so board
 *   readings outside 1–100 °C are dropped.
 */
import type {
  BoardTemperature,
  CollectorError,
  Temperatures,
} from "@proxmon/shared";
import { parseJson } from "../exec.ts";
import { isRecord, round2 } from "../values.ts";

export const TEMPERATURE_TAG = "temperatures";

export interface Reading {
  label: string;
  celsius: number;
}

export interface Chip {
  /** `coretemp-isa-0000`, or `hwmon3` when read from sysfs */
  name: string;
  /** the driver: `coretemp`, `k10temp`, `nvme`, `nct6798`, … */
  driver: string;
  readings: Reading[];
}

const BOARD = /^(nct|it8|f71|w83|asus|acpitz|pch_|gigabyte|dell_smm|thinkpad)/;

const maxOf = (xs: number[]) =>
  xs.length === 0 ? null : round2(Math.max(...xs));

/** The payload's figures, without its errors. */
export interface TemperatureSummary {
  source: "sensors" | "hwmon" | null;
  cpu_package_c: number | null;
  cpu_core_max_c: number | null;
  nvme: Temperatures["nvme"];
  board: BoardTemperature[];
}

/** Classifies chips into the payload's figures (errors are the caller's). */
export function summarizeChips(
  chips: readonly Chip[],
  source: "sensors" | "hwmon",
): TemperatureSummary {
  const packages: number[] = [];
  const cores: number[] = [];
  const nvme: Temperatures["nvme"] = [];
  const board: BoardTemperature[] = [];
  for (const chip of chips) {
    const by = (re: RegExp) =>
      chip.readings.filter((r) => re.test(r.label)).map((r) => r.celsius);
    if (chip.driver === "coretemp") {
      packages.push(...by(/^(Package id|Physical id) \d+$/));
      cores.push(...by(/^Core \d+$/));
    } else if (chip.driver === "k10temp" || chip.driver === "zenpower") {
      const tdie = by(/^Tdie$/);
      packages.push(...(tdie.length > 0 ? tdie : by(/^Tctl$/)));
      cores.push(...by(/^Tccd\d+$/));
    } else if (chip.driver === "nvme") {
      const composite = by(/^Composite$/);
      nvme.push({ device: chip.name, composite_c: maxOf(composite) });
    } else if (BOARD.test(chip.driver)) {
      for (const r of chip.readings) {
        if (r.celsius > 1 && r.celsius < 100) {
          board.push({
            chip: chip.name,
            label: r.label,
            celsius: round2(r.celsius),
          });
        }
      }
    }
  }
  return {
    source,
    cpu_package_c: maxOf(packages),
    cpu_core_max_c: maxOf(cores),
    nvme,
    board,
  };
}

/**
 * Parses `sensors -j`: `{chip: {"Adapter": …, feature: {tempN_input: °C, …}}}`.
 * Only temperature features (`temp*_input`) are read.
 */
export function parseSensorsJson(
  text: string,
): { chips: Chip[]; errors: CollectorError[] } {
  const parsed = parseJson(text, TEMPERATURE_TAG, "sensors -j");
  if (!parsed.ok) return { chips: [], errors: [parsed.error] };
  if (!isRecord(parsed.value)) {
    return {
      chips: [],
      errors: [{
        tag: TEMPERATURE_TAG,
        message: "sensors -j: not a JSON object",
      }],
    };
  }
  const chips = Object.entries(parsed.value).flatMap(
    ([name, features]): Chip[] => {
      if (!isRecord(features)) return [];
      const readings = Object.entries(features).flatMap(
        ([label, values]): Reading[] => {
          if (!isRecord(values)) return [];
          const input = Object.entries(values).find(([k]) =>
            /^temp\d+_input$/.test(k)
          );
          return input && typeof input[1] === "number"
            ? [{ label, celsius: input[1] }]
            : [];
        },
      );
      return [{ name, driver: name.split("-")[0], readings }];
    },
  );
  return { chips, errors: [] };
}

/** One hwmon directory as read from sysfs: its `name` and `tempN_input`/`tempN_label` files. */
export interface HwmonDir {
  dir: string;
  name: string;
  files: Record<string, string>;
}

/** Turns hwmon directories into chips (`tempN_input` is in millidegrees). */
export function parseHwmon(dirs: readonly HwmonDir[]): Chip[] {
  return dirs.map((d) => {
    const readings: Reading[] = [];
    for (const [file, text] of Object.entries(d.files)) {
      const m = /^temp(\d+)_input$/.exec(file);
      if (!m) continue;
      const milli = Number(text.trim());
      if (!Number.isFinite(milli)) continue;
      const label = d.files[`temp${m[1]}_label`]?.trim() || `temp${m[1]}`;
      readings.push({ label, celsius: milli / 1000 });
    }
    return { name: d.dir, driver: d.name.trim(), readings };
  });
}
