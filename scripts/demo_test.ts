/**
 * `deno task demo` as a user runs it: a real process tree (server, host CLI,
 * agents, simulated nodes), judged through the public API.
 */
import assert from "node:assert/strict";
import { freePort } from "@proxmon/shared/free_port";
import { spawnProc, waitFor } from "./smoke/process.ts";
import { ROOT, ServerExited, startServer } from "./smoke/stack.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

const DENO = Deno.execPath();

function demoEnv(port: number, dir: string): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    PORT: String(port),
    DEMO_DIR: dir,
  };
}

/** A listener that accepts connections and never answers them. */
function silentHolder(port: number): AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  })();
  return {
    async [Symbol.asyncDispose]() {
      listener.close();
      conns.forEach((c) => c.close());
      await accepting;
    },
  };
}

Deno.test("demo: the 24 h CPU chart has at least 100 points within 15 s of start", async () => {
  await using dir = await tempDir("proxmon-demo-");
  const port = freePort();
  const started = Date.now();
  const demo = spawnProc("demo", DENO, {
    args: ["task", "--quiet", "demo"],
    env: demoEnv(port, dir.path),
    cwd: ROOT,
  });
  try {
    const points = await waitFor(
      "100 points in the 24 h CPU chart",
      async () => {
        if (demo.exited()) throw new Error(`demo exited:\n${demo.tail()}`);
        const res = await fetch(
          `http://127.0.0.1:${port}/api/hosts/pve-lab/history?metric=cpu&range=24h`,
          { signal: AbortSignal.timeout(2000) },
        );
        if (!res.ok) {
          await res.body?.cancel();
          return undefined;
        }
        const body = await res.json() as { data: (number | null)[][] };
        const n = body.data[1].filter((x) => x !== null).length;
        return n >= 100 ? n : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`${points} points after ${seconds.toFixed(1)} s`);

    // Once all of it is in, the history is a daily curve, not noise: the
    // busiest and quietest two hours of the last day differ clearly.
    await waitFor("the backfill to finish", () =>
      Promise.resolve(
        demo.tail(400).includes("sent through the agent socket")
          ? true
          : undefined,
      ), { timeoutMs: 60_000 });
    const res = await fetch(
      `http://127.0.0.1:${port}/api/hosts/pve-lab/history?metric=cpu&range=24h&points=12`,
    );
    const series = (await res.json() as { data: (number | null)[][] }).data[1]
      .filter((x): x is number => x !== null);
    assert.ok(series.length >= 11, `${series.length} two-hour buckets`);
    assert.ok(
      Math.max(...series) > 2 * Math.min(...series),
      `two-hour CPU averages ${series.join(", ")}`,
    );
    for (const name of ["pve-mini", "pve-old"]) {
      const other = await fetch(
        `http://127.0.0.1:${port}/api/hosts/${name}/history?metric=cpu&range=48h`,
      );
      const data = (await other.json() as { data: (number | null)[][] }).data;
      assert.ok(
        data[1].filter((x) => x !== null).length >= 100,
        `${name} has 48 h of history`,
      );
    }
  } finally {
    await demo.stop();
  }
});

Deno.test("demo: a busy port stops it within 2 s with one line", async () => {
  await using dir = await tempDir("proxmon-demo-");
  const port = freePort();
  await using _holder = silentHolder(port);
  const started = Date.now();
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", `${ROOT}/scripts/demo.ts`],
    env: demoEnv(port, dir.path),
    cwd: ROOT,
    stdin: "null",
    signal: AbortSignal.timeout(10_000),
  }).output();
  const seconds = (Date.now() - started) / 1000;
  const text = new TextDecoder();
  const lines = (text.decode(out.stdout) + text.decode(out.stderr))
    .split("\n").filter(Boolean);
  assert.equal(out.code, 1);
  assert.deepEqual(lines, [
    `demo: port ${port} on 127.0.0.1 is in use: stop what holds it or set PORT`,
  ]);
  assert.ok(seconds <= 2, `exited after ${seconds} s`);
});

Deno.test("startServer: a server that exits beside a silent port holder ends the wait, no hang", async () => {
  await using dir = await tempDir("proxmon-stack-");
  const port = freePort();
  await using _holder = silentHolder(port);
  // A probe that waited on the silent holder would hang past this.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("still waiting")), 20_000);
  });
  const err = await Promise.race([
    startServer({
      port,
      databaseUrl: `file:${dir.path}/proxmon.db`,
      startTimeoutMs: 60_000,
    }),
    hung,
  ]).then(
    () => assert.fail("the server started on a taken port"),
    (e) => e,
  ).finally(() => clearTimeout(timer));
  assert.ok(err instanceof ServerExited, String(err));
  assert.match(err.output, /already in use/);
});
