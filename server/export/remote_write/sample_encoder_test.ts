import assert from "node:assert/strict";
import type { FastPayload } from "@proxmon/shared";
import { sampleFixture } from "../../testing/samples.ts";
import { type HostSample, payloadSeries } from "../metric_families.ts";
import { decodeShape, fillShape } from "./queue_shape.ts";
import {
  createSampleEncoder as createEncoder,
  type EncodedSample,
} from "./sample_encoder.ts";
import {
  decodeWriteRequest,
  encodeSeries,
  uncompress,
} from "./write_request.ts";

const fast = await sampleFixture("fast");
const medium = await sampleFixture("medium");
const slow = await sampleFixture("slow");
const T0 = Date.UTC(2026, 0, 1, 12);

/**
 * Every test runs twice: with whole requests in the rows, and with shape
 * ids, rows of values whose request the pump makes (`fillShape`) from the
 * shape as stored (encoded, then decoded).
 */
const MODES = ["whole requests", "rows of values"] as const;
type Mode = typeof MODES[number];
let mode: Mode = "whole requests";
const shapeBodies = new Map<number, Uint8Array>();

function createSampleEncoder(
  opts: Parameters<typeof createEncoder>[0],
): ReturnType<typeof createEncoder> {
  if (mode === "whole requests") return createEncoder(opts);
  let id = 1;
  const enc = createEncoder({ ...opts, shapeId: () => id++ });
  return {
    ...enc,
    encode(s) {
      const got = enc.encode(s);
      if (got === null) return null;
      assert.ok(got.shape, "a row of values comes with its shape");
      // A shape id always means the same shape.
      const known = shapeBodies.get(got.shape.id);
      if (known) assert.deepEqual(got.shape.body, known);
      shapeBodies.set(got.shape.id, got.shape.body);
      assert.equal(got.body.length, got.samples * 8);
      const body = fillShape(
        decodeShape(got.shape.body),
        got.body,
        s.collectedAtMs,
      );
      return { body, samples: got.samples } satisfies EncodedSample;
    },
  };
}

/** Each test, in each mode. */
function test(name: string, fn: () => void) {
  for (const m of MODES) {
    Deno.test(`${name} (${m})`, () => {
      mode = m;
      shapeBodies.clear();
      fn();
    });
  }
}

/** What the full encoder makes of the sample: the reference. */
const reference = (s: HostSample, datasets = false) =>
  encodeSeries(payloadSeries(s.hostName, s, { datasets }), s.collectedAtMs);

function fastAt(host: string, at: number, tweak: (p: FastPayload) => void) {
  const data = structuredClone(fast);
  tweak(data);
  return {
    hostName: host,
    interval: "fast",
    collectedAtMs: at,
    data,
  } satisfies HostSample;
}

test("each sample's request decodes to its own series, values and timestamp, whether its host's template was reused or rebuilt", () => {
  const enc = createSampleEncoder({ datasets: false });
  for (let i = 0; i < 20; i++) {
    for (const host of ["pve-01", "pve-02"]) {
      const s = fastAt(host, T0 + i * 10_000, (p) => {
        p.host.cpu_percent = (i * 7) % 100;
        p.host.load1 = i / 3;
        for (const [g, vm] of p.vms_runtime.vms.entries()) {
          vm.cpu_usage = ((i + g) % 10) / 10;
          vm.netin_bytes = i * 1_000_003 + g;
        }
      });
      const got = enc.encode(s);
      assert.ok(got !== null);
      const bytes = uncompress(got.body);
      assert.deepEqual(bytes, reference(s), `${host}, sample ${i}`);
      const series = decodeWriteRequest(bytes);
      assert.equal(got.samples, series.length);
      assert.ok(
        series.every((x) => x.samples[0].timestamp === s.collectedAtMs),
      );
      const cpu = series.find((x) =>
        x.labels[0].value === "proxmon_host_cpu_ratio"
      );
      assert.equal(cpu?.samples[0].value, ((i * 7) % 100) / 100);
      assert.ok(cpu?.labels.some((l) => l.name === "host" && l.value === host));
    }
  }
  // One template per host, reused from the second sample on.
  assert.deepEqual(enc.stats(), { reused: 38, built: 2 });
});

test("a sample whose series differ from its host's last (a guest gone, a guest renamed, a value unreadable) is encoded in full and becomes the template", () => {
  const enc = createSampleEncoder({ datasets: false });
  // Each after the unchanged payload, so only the change tells them apart.
  const changes: ((p: FastPayload) => void)[] = [
    () => {},
    (p) => p.vms_runtime.vms[0].name = "renamed",
    () => {},
    (p) => p.vms_runtime.vms.pop(),
    () => {},
    (p) => p.host.load5 = null,
    () => {},
    (p) => p.zfs_pools.pools[1].name = "tank2",
    () => {},
  ];
  let at = T0;
  for (const [i, change] of changes.entries()) {
    const s = fastAt("pve-01", at += 10_000, change);
    const got = enc.encode(s);
    assert.deepEqual(uncompress(got!.body), reference(s), `change ${i}`);
    // The same again reuses what the change built.
    const again = fastAt("pve-01", at += 10_000, change);
    assert.deepEqual(uncompress(enc.encode(again)!.body), reference(again));
  }
  const { reused, built } = enc.stats();
  assert.equal(reused + built, changes.length * 2);
  assert.equal(built, 1 + 2 * 4);
});

test("a timestamp of another varint length, other intervals and datasets are encoded right; a sample with no series gives null", () => {
  const enc = createSampleEncoder({ datasets: true });
  const samples: HostSample[] = [
    fastAt("pve-01", 1_000, () => {}),
    fastAt("pve-01", T0, () => {}),
    { hostName: "pve-01", interval: "slow", collectedAtMs: T0, data: slow },
    { hostName: "pve-01", interval: "slow", collectedAtMs: T0 + 1, data: slow },
    {
      hostName: "pve-01",
      interval: "medium",
      collectedAtMs: T0,
      data: medium,
    },
    fastAt("pve-01", T0 + 10_000, () => {}),
  ];
  for (const s of samples) {
    assert.deepEqual(uncompress(enc.encode(s)!.body), reference(s, true));
  }
  const plain = createSampleEncoder({ datasets: false });
  assert.equal(
    plain.encode({
      hostName: "pve-01",
      interval: "medium",
      collectedAtMs: T0,
      data: medium,
    }),
    null,
  );
});

test("past maxTemplates the oldest template goes, and every request is still right", () => {
  const enc = createSampleEncoder({ datasets: false, maxTemplates: 3 });
  for (let round = 0; round < 3; round++) {
    for (let h = 0; h < 5; h++) {
      const s = fastAt(`pve-0${h}`, T0 + round * 10_000, (p) => {
        p.host.cpu_percent = round * 10 + h;
      });
      assert.deepEqual(uncompress(enc.encode(s)!.body), reference(s));
    }
  }
  // Five hosts cycling through three slots: no template survives a round.
  assert.deepEqual(enc.stats(), { reused: 0, built: 15 });
});
