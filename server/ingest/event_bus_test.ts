import assert from "node:assert/strict";
import { createEventBus, type ServerEvent } from "./event_bus.ts";

const online: ServerEvent = {
  type: "status",
  host: "pve-01",
  status: "online",
};
const sample: ServerEvent = {
  type: "sample",
  host: "pve-01",
  interval: "fast",
  collected_at: "2026-04-21T12:00:00.000Z",
};

Deno.test("createEventBus() delivers each event to every subscriber in order", () => {
  const bus = createEventBus();
  const a: ServerEvent[] = [];
  const b: ServerEvent[] = [];
  bus.subscribe((e) => a.push(e));
  bus.subscribe((e) => b.push(e));
  bus.publish(online);
  bus.publish(sample);
  assert.deepEqual(a, [online, sample]);
  assert.deepEqual(b, [online, sample]);
});

Deno.test("unsubscribe stops delivery to that subscriber only", () => {
  const bus = createEventBus();
  const seen: string[] = [];
  const fn = (e: ServerEvent) => seen.push(e.type);
  const off = bus.subscribe(fn);
  bus.subscribe(fn);
  off();
  bus.publish(online);
  assert.deepEqual(seen, ["status"]);
});

Deno.test("a throwing subscriber is reported and the others still get the event", () => {
  const failures: unknown[] = [];
  const bus = createEventBus((err) => failures.push(err));
  const seen: ServerEvent[] = [];
  bus.subscribe(() => {
    throw new Error("view broke");
  });
  bus.subscribe((e) => seen.push(e));
  bus.publish(sample);
  assert.deepEqual(seen, [sample]);
  assert.equal((failures[0] as Error).message, "view broke");
});
