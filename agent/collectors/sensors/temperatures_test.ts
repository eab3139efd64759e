import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import {
  parseHwmon,
  parseSensorsJson,
  summarizeChips,
} from "./temperatures.ts";
import { readHwmon } from "./temperature_collector.ts";

const summary = (name: string) => {
  const { chips, errors } = parseSensorsJson(readFixture(`sensors/${name}`));
  assert.deepEqual(errors, []);
  return summarizeChips(chips, "sensors");
};

Deno.test("Intel + Nuvoton board: package, hottest core, NVMe composite, and only the wired board inputs", () => {
  const s = summary("sensors_j__intel_coretemp_nct6798_asrock_nvme.json");
  assert.equal(s.cpu_package_c, 37);
  assert.equal(s.cpu_core_max_c, 35);
  assert.deepEqual(s.nvme, [{ device: "nvme-pci-0200", composite_c: 34.85 }]);
  // SYSTIN 120, AUXTIN0-4 108-115 and -1, PCH_* 0: unwired inputs, dropped
  assert.deepEqual(s.board.map((b) => [b.label, b.celsius]), [["CPUTIN", 37], [
    "PECI Agent 0",
    37.5,
  ]]);
});

Deno.test("Intel with two NVMe drives and an ACPI zone", () => {
  const s = summary("sensors_j__intel_coretemp_2nvme_acpitz.json");
  assert.equal(s.cpu_package_c, 27);
  assert.equal(s.cpu_core_max_c, 26);
  assert.deepEqual(s.nvme.map((n) => n.device).sort(), [
    "nvme-pci-0200",
    "nvme-pci-0500",
  ]);
  assert.deepEqual(s.board, [{
    chip: "acpitz-acpi-0",
    label: "temp1",
    celsius: 27.8,
  }]);
});

Deno.test("AMD k10temp: Tdie is the package (Tctl may carry an offset); the GPU is not the board", () => {
  const s = summary("sensors_j__amd_k10temp_amdgpu_metaprint_wiki.json");
  assert.equal(s.cpu_package_c, 53.13); // 53.125, rounded to two decimals
  assert.equal(s.cpu_core_max_c, null);
  assert.deepEqual(s.nvme, []);
  assert.deepEqual(s.board, []);
});

Deno.test("parseSensorsJson() reports output that is not JSON", () => {
  const { chips, errors } = parseSensorsJson(
    "coretemp-isa-0000\nAdapter: ISA adapter\n",
  );
  assert.deepEqual(chips, []);
  assert.match(errors[0].message, /sensors -j: invalid JSON/);
});

Deno.test("readHwmon() + parseHwmon() read sysfs millidegrees and labels the way lm-sensors names them", async () => {
  const root = await Deno.makeTempDir();
  try {
    // the values of the Intel fixture above, as the kernel exposes them
    await Deno.mkdir(`${root}/hwmon0`);
    await Deno.writeTextFile(`${root}/hwmon0/name`, "nvme\n");
    await Deno.writeTextFile(`${root}/hwmon0/temp1_input`, "34850\n");
    await Deno.writeTextFile(`${root}/hwmon0/temp1_label`, "Composite\n");
    await Deno.mkdir(`${root}/hwmon1`);
    await Deno.writeTextFile(`${root}/hwmon1/name`, "coretemp\n");
    await Deno.writeTextFile(`${root}/hwmon1/temp1_input`, "37000\n");
    await Deno.writeTextFile(`${root}/hwmon1/temp1_label`, "Package id 0\n");
    await Deno.writeTextFile(`${root}/hwmon1/temp2_input`, "35000\n");
    await Deno.writeTextFile(`${root}/hwmon1/temp2_label`, "Core 8\n");
    await Deno.writeTextFile(`${root}/hwmon1/temp3_input`, "31000\n");
    const s = summarizeChips(parseHwmon(await readHwmon(root)), "hwmon");
    assert.equal(s.cpu_package_c, 37);
    assert.equal(s.cpu_core_max_c, 35);
    assert.deepEqual(s.nvme, [{ device: "hwmon0", composite_c: 34.85 }]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
