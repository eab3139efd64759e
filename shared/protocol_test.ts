import assert from "node:assert/strict";
import * as v from "valibot";
import {
  checkSample,
  encode,
  HostName,
  JoinMessage,
  type NackReason,
  PROTOCOL_VERSION,
  replaceNul,
  ServerMessage,
} from "./protocol.ts";

const FIXTURES = `${import.meta.dirname}/../fixtures/samples`;
const fast = JSON.parse(await Deno.readTextFile(`${FIXTURES}/fast.json`));

const sample = (over: Record<string, unknown>) => ({
  type: "sample",
  ref: 7,
  interval: "fast",
  collected_at: "2026-04-21T12:00:00.123Z",
  data: fast,
  ...over,
});

Deno.test("checkSample() accepts a valid sample and parses collected_at", () => {
  const result = checkSample(sample({}));
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.sample.ref, 7);
  assert.equal(result.sample.interval, "fast");
  assert.equal(
    result.sample.collectedAtMs,
    Date.UTC(2026, 3, 21, 12, 0, 0, 123),
  );
});

Deno.test("checkSample() accepts a zone offset and converts it to UTC", () => {
  const result = checkSample(
    sample({ collected_at: "2026-04-21T14:00:00+02:00" }),
  );
  assert.ok(result.ok);
  assert.equal(result.sample.collectedAtMs, Date.UTC(2026, 3, 21, 12));
});

Deno.test("checkSample() maps each fault to its nack reason", async (t) => {
  const cases: [string, Record<string, unknown>, NackReason][] = [
    ["no collected_at", { collected_at: undefined }, "missing_collected_at"],
    ["null collected_at", { collected_at: null }, "missing_collected_at"],
    [
      "date without a zone",
      { collected_at: "2026-04-21T12:00:00" },
      "invalid_collected_at",
    ],
    ["not a date", { collected_at: "yesterday" }, "invalid_collected_at"],
    ["a number", { collected_at: 1776772800000 }, "invalid_collected_at"],
    [
      "impossible date",
      { collected_at: "2026-13-45T12:00:00Z" },
      "invalid_collected_at",
    ],
    ["no data", { data: undefined }, "missing_data"],
    ["unknown interval", { interval: "hourly" }, "invalid_interval"],
    ["no interval", { interval: undefined }, "invalid_interval"],
    ["data a list", { data: [fast] }, "invalid_payload"],
    ["data a string", { data: "fast" }, "invalid_payload"],
  ];
  for (const [name, over, reason] of cases) {
    await t.step(name, () => {
      const result = checkSample(sample(over));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.reason, reason);
      assert.equal(result.ref, 7);
      assert.ok(result.message.length > 0);
    });
  }
});

Deno.test("checkSample() accepts a wrong-typed field as null and names it in the collector's errors", () => {
  const host = { ...fast.host, cpu_percent: "high" };
  const result = checkSample(sample({ data: { ...fast, host } }));
  assert.ok(result.ok);
  assert.equal(result.sample.interval, "fast");
  if (result.sample.interval !== "fast") return;
  assert.equal(result.sample.data.host.cpu_percent, null);
  assert.equal(result.sample.data.host.load1, fast.host.load1);
  const schema = result.sample.data.host.errors.filter((e) =>
    e.tag === "schema"
  );
  assert.equal(schema.length, 1);
  assert.match(schema[0].message, /^host\.cpu_percent: /);
});

Deno.test("checkSample() accepts an empty payload, every collector at its defaults", () => {
  const result = checkSample(sample({ interval: "medium", data: {} }));
  assert.ok(result.ok);
  assert.deepEqual(result.sample.data, {
    zfs_datasets: { datasets: [], errors: [] },
    vms_detail: { vms: [], errors: [] },
  });
});

Deno.test("HostName accepts registered names and refuses spaces, slashes and empty", () => {
  for (const good of ["pve-01", "pve1.lan", "a", "node_7"]) {
    assert.ok(v.is(HostName, good), good);
  }
  for (const bad of ["", "pve 01", "pve/01", "-pve", "x".repeat(65), "pve\n"]) {
    assert.ok(!v.is(HostName, bad), JSON.stringify(bad));
  }
});

Deno.test("JoinMessage validates the join frame of DESIGN.md", () => {
  const join = {
    type: "join",
    host: "pve-01",
    token: "t",
    agent_version: "0.1.0",
    protocol: PROTOCOL_VERSION,
  };
  assert.ok(v.is(JoinMessage, join));
  assert.ok(!v.is(JoinMessage, { ...join, token: "" }));
  assert.ok(!v.is(JoinMessage, { ...join, protocol: "1" }));
});

Deno.test("ServerMessage parses every server reply and encode() round-trips it", () => {
  const replies = [
    { type: "joined" },
    { type: "error", reason: "unauthorized" },
    { type: "ack", ref: 3 },
    { type: "nack", ref: 3, reason: "invalid_payload", message: "x" },
    { type: "pong" },
  ] as const;
  for (const reply of replies) {
    assert.deepEqual(v.parse(ServerMessage, JSON.parse(encode(reply))), reply);
  }
  assert.ok(!v.is(ServerMessage, { type: "error", reason: "no_such_reason" }));
});

Deno.test("replaceNul() replaces NUL in strings and keys at any depth, and returns the same object when there is none", () => {
  const clean = { a: [{ b: "x", c: 1 }], d: null, e: true };
  assert.equal(replaceNul(clean), clean);
  const dirty = { a: [{ b: "x\u0000y", c: 1 }], "k\u0000": "v", d: null };
  assert.deepEqual(replaceNul(dirty), {
    a: [{ b: "x\uFFFDy", c: 1 }],
    "k\uFFFD": "v",
    d: null,
  });
  // the input is left as it was
  assert.equal(dirty.a[0].b, "x\u0000y");
  assert.equal(replaceNul("\u0000"), "\uFFFD");
});
