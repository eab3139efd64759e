/**
 * The fake `sensors -j` (lm-sensors 3.6 JSON): chips named
 * `<driver>-<bus>-<address>`, features with `tempN_input` and limits, as in
 * the real outputs in fixtures/sensors. Intel nodes get `coretemp`
 * (Package id 0, one Core per two CPUs), AMD nodes `k10temp` (Tctl, Tccd1);
 * each NVMe disk a `nvme-pci-XX00` chip with its Composite temperature; the
 * board an nct6798 with one unwired input, as real boards have.
 */
import type { NodeModel } from "../node_model.ts";
import { level } from "../waves.ts";
import { fail, ok, type ToolResult } from "./tool_result.ts";

const r3 = (n: number) => Math.round(n * 1000) / 1000;

/** Answers `sensors -j` at `nowMs`. */
export function sensors(
  model: NodeModel,
  args: string[],
  nowMs: number,
): ToolResult {
  if (!args.includes("-j")) {
    return fail("fake sensors: only `sensors -j` is simulated\n", 1);
  }
  const now = nowMs / 1000;
  const t = model.health.temperatures;
  const wave = (seed: string, base: number) =>
    r3(base + level(seed, 0, 1.5, now));
  const out: Record<string, unknown> = {};
  if (t.vendor === "amd") {
    out["k10temp-pci-00c3"] = {
      Adapter: "PCI adapter",
      Tctl: { temp1_input: wave("tctl", t.package) },
      Tccd1: { temp3_input: wave("ccd1", t.package - 3) },
    };
  } else {
    const pkg = wave("pkg", t.package);
    const cores: Record<string, unknown> = {};
    for (let i = 0; i < Math.max(1, model.host.cpus / 2); i++) {
      cores[`Core ${i}`] = {
        [`temp${i + 2}_input`]: wave(`core${i}`, t.package - 2 - (i % 3)),
        [`temp${i + 2}_max`]: 80,
        [`temp${i + 2}_crit`]: 100,
        [`temp${i + 2}_crit_alarm`]: 0,
      };
    }
    out["coretemp-isa-0000"] = {
      Adapter: "ISA adapter",
      "Package id 0": {
        temp1_input: pkg,
        temp1_max: 80,
        temp1_crit: 100,
        temp1_crit_alarm: 0,
      },
      ...cores,
    };
  }
  model.health.disks.filter((d) => d.nvme).forEach((d, i) => {
    const base = t.nvme[i] ?? d.def.temperature;
    out[`nvme-pci-0${i + 1}00`] = {
      Adapter: "PCI adapter",
      Composite: {
        temp1_input: wave(`${d.byId}:t`, base + 0.85),
        temp1_max: 81.85,
        temp1_min: -273.15,
        temp1_crit: 84.85,
        temp1_alarm: 0,
      },
    };
  });
  out["nct6798-isa-0290"] = {
    Adapter: "ISA adapter",
    SYSTIN: {
      temp1_input: wave("systin", t.board),
      temp1_max: 80,
      temp1_max_hyst: 75,
    },
    CPUTIN: {
      temp2_input: wave("cputin", t.board + 6),
      temp2_max: 80,
      temp2_max_hyst: 75,
    },
    // an unwired input, as the nct6798 in fixtures/sensors shows
    AUXTIN0: { temp3_input: 115, temp3_max: 80, temp3_max_hyst: 75 },
  };
  return ok(`${JSON.stringify(out, null, 3)}\n`);
}
