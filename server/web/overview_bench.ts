/**
 * Dashboard rendering at the size the issue names: 100 hosts with 5 guests
 * each (500 guests), every host with a few minutes of fast samples and one
 * medium and slow sample, in a real SQLite file.
 *
 *   deno task bench:dashboard
 */
import { createAuth } from "../auth/auth.tsx";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { createEventBus } from "../ingest/event_bus.ts";
import { createHost, markOnline } from "../store/hosts.ts";
import { recordSamples, type SampleInput } from "../store/sample_store.ts";
import { sampleFixture } from "../testing/samples.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { createDashboard } from "./dashboard.tsx";

const HOSTS = 100;
const FAST_SAMPLES_PER_HOST = 30;
const NOW = Date.UTC(2026, 3, 21, 12);

const [fast, medium, slow] = await Promise.all([
  sampleFixture("fast"),
  sampleFixture("medium"),
  sampleFixture("slow"),
]);
const tmp = await openTempDatabase();
const { database } = tmp;
for (let i = 0; i < HOSTS; i++) {
  const name = `pve-${String(i).padStart(3, "0")}`;
  const { host } = await createHost(database, name, NOW);
  await markOnline(database, host.id, "0.1.0", NOW);
  const samples: SampleInput[] = Array.from(
    { length: FAST_SAMPLES_PER_HOST },
    (_, k) => ({
      hostId: host.id,
      interval: "fast",
      collectedAtMs: NOW - k * 10_000,
      data: fast,
    }),
  );
  samples.push(
    { hostId: host.id, interval: "medium", collectedAtMs: NOW, data: medium },
    { hostId: host.id, interval: "slow", collectedAtMs: NOW, data: slow },
  );
  await recordSamples(database, samples, NOW);
}

const clock = fakeClock(NOW);
const auth = createAuth({
  database,
  clock,
  config: { dashboardPasswordHash: null, sessionSecret: null },
});
const app = createDashboard({ database, clock, bus: createEventBus(), auth });

async function get(path: string) {
  const res = await app.request(path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  await res.arrayBuffer();
}

Deno.bench("overview page, 100 hosts / 500 guests", async () => {
  await get("/");
});

Deno.bench("overview fragment for one changed host", async () => {
  await get("/fragments/overview?host=pve-042");
});

Deno.bench("host page with 5 guests, 8 datasets", async () => {
  await get("/hosts/pve-042");
});

Deno.bench("host live fragment", async () => {
  await get("/fragments/hosts/pve-042");
});

globalThis.addEventListener("unload", () => {
  database.close();
  Deno.removeSync(tmp.dir, { recursive: true });
});
