/**
 * The medium-cycle temperature collector: `sensors -j` where lm-sensors is
 * installed, /sys/class/hwmon otherwise. `sensors` is a small C program
 * (milliseconds of CPU), so reading it every medium cycle is cheap, and a
 * 60 s view is enough for rules that wait 10 min before firing.
 */
import type { Temperatures } from "@proxmon/shared";
import { SENSORS_JSON } from "../commands.ts";
import { describeFailure, type Exec, runCommand } from "../exec.ts";
import type { WarnOnce } from "../warn_once.ts";
import {
  type HwmonDir,
  parseHwmon,
  parseSensorsJson,
  summarizeChips,
  TEMPERATURE_TAG,
} from "./temperatures.ts";

/** Reads the hwmon directories under a sysfs class dir (`/sys/class/hwmon`). */
export async function readHwmon(root: string): Promise<HwmonDir[]> {
  const dirs: HwmonDir[] = [];
  for await (const entry of Deno.readDir(root)) {
    const dir = `${root}/${entry.name}`;
    const files: Record<string, string> = {};
    let name = "";
    try {
      name = await Deno.readTextFile(`${dir}/name`);
      for await (const f of Deno.readDir(dir)) {
        if (!/^temp\d+_(input|label)$/.test(f.name)) continue;
        try {
          files[f.name] = await Deno.readTextFile(`${dir}/${f.name}`);
        } catch (e) {
          // a sensor that cannot be read right now (EIO, ENODATA) is skipped
          if (!(e instanceof Deno.errors.NotFound) && !(e instanceof Error)) {
            throw e;
          }
        }
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    dirs.push({ dir: entry.name, name, files });
  }
  return dirs.sort((a, b) => a.dir.localeCompare(b.dir));
}

export interface TemperatureCollectorOptions {
  /** `/sys/class/hwmon`, or a fake directory in tests */
  hwmonDir: string;
}

export function createTemperatureCollector(
  exec: Exec,
  opts: TemperatureCollectorOptions,
  warnOnce: WarnOnce = () => {},
): { collect(): Promise<Temperatures> } {
  return {
    async collect() {
      const result = await runCommand(exec, SENSORS_JSON);
      if (result.ok) {
        const { chips, errors } = parseSensorsJson(result.stdout);
        return { ...summarizeChips(chips, "sensors"), errors };
      }
      const sensorsError = result.error.kind === "enoent" ? null : {
        tag: TEMPERATURE_TAG,
        message: describeFailure(SENSORS_JSON, result.error),
      };
      try {
        const chips = parseHwmon(await readHwmon(opts.hwmonDir));
        const summary = summarizeChips(chips, "hwmon");
        const none = chips.every((c) => c.readings.length === 0);
        return {
          ...summary,
          source: none ? null : "hwmon",
          errors: [
            ...(sensorsError ? [sensorsError] : []),
            ...(none
              ? [{
                tag: TEMPERATURE_TAG,
                message: `no temperature sensors in ${opts.hwmonDir}`,
              }]
              : []),
          ],
        };
      } catch (e) {
        if (
          !(e instanceof Deno.errors.NotFound ||
            e instanceof Deno.errors.PermissionDenied)
        ) throw e;
        warnOnce(
          "temperatures",
          `no temperatures: sensors (lm-sensors) is not installed and ${opts.hwmonDir} cannot be read`,
        );
        return {
          source: null,
          cpu_package_c: null,
          cpu_core_max_c: null,
          nvme: [],
          board: [],
          errors: [
            ...(sensorsError ? [sensorsError] : []),
            {
              tag: TEMPERATURE_TAG,
              message:
                `no temperatures: sensors (lm-sensors) is not installed and ${opts.hwmonDir} is ${
                  e instanceof Deno.errors.NotFound ? "missing" : "not readable"
                }`,
            },
          ],
        };
      }
    },
  };
}
