import assert from "node:assert/strict";
import { utf8Bytes } from "./utf8_bytes.ts";

Deno.test("utf8Bytes() equals TextEncoder for ASCII and for names beyond it", () => {
  const enc = new TextEncoder();
  for (
    const s of [
      "",
      "proxmon_host_cpu_ratio",
      'host="pve-01"',
      "café",
      "节点",
      "x\u{1F600}y",
    ]
  ) {
    assert.deepEqual(utf8Bytes(s), enc.encode(s), s);
  }
});
