import assert from "node:assert/strict";
import { denoRunner } from "./deno_runner.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

Deno.test("denoRunner returns stdout on a zero exit", async () => {
  const result = await denoRunner.run("echo", ["hello"]);
  assert.deepEqual(result, { ok: true, stdout: "hello\n", stderr: "" });
});

Deno.test("denoRunner keeps long output whole, multi-byte characters across reads included", async () => {
  // 3- and 4-byte characters at odd offsets land across every read boundary.
  const line = "tank/vm-100-disk-0@é€😀 1234567\n";
  const text = line.repeat(8_000); // about 300 KB, many reads
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, text);
    const result = await denoRunner.run("/bin/sh", [
      "-c",
      `cat "$0"; cat "$0" >&2`,
      file,
    ]);
    assert.ok(result.ok);
    assert.equal(result.stdout.length, text.length);
    assert.equal(result.stdout, text);
    assert.equal(result.stderr, text);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("denoRunner returns nonzero_exit with the code and both outputs", async () => {
  const result = await denoRunner.run("/bin/sh", [
    "-c",
    "echo partial; echo broken >&2; exit 7",
  ]);
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.deepEqual(result.error, {
    kind: "nonzero_exit",
    code: 7,
    stdout: "partial\n",
    stderr: "broken\n",
    message: "/bin/sh -c echo partial; echo broken >&2; exit 7: " +
      "exited with code 7: broken",
  });
});

Deno.test("denoRunner returns enoent for a missing binary", async (t) => {
  await t.step("given as a path", async () => {
    const result = await denoRunner.run("/does/not/exist/nope", []);
    assert.ok(!result.ok);
    assert.equal(result.error.kind, "enoent");
    assert.match(result.error.message, /\/does\/not\/exist\/nope/);
  });
  await t.step("looked up on PATH", async () => {
    const result = await denoRunner.run("proxmon-no-such-tool", ["x"]);
    assert.ok(!result.ok);
    assert.deepEqual(result.error, {
      kind: "enoent",
      message: "proxmon-no-such-tool: command not found on PATH",
    });
  });
});

Deno.test("denoRunner kills a child that outlives its timeout, grandchildren included", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  // The shell records its own pid and its background sleep's pid, then
  // waits: both must be gone once the runner reports the timeout.
  const script = `sleep 30 & echo $$ $! > ${dir}/pids; wait`;
  const result = await denoRunner.run("sh", ["-c", script], {
    timeoutMs: 200,
  });
  assert.ok(!result.ok);
  assert.deepEqual(result.error, {
    kind: "timeout",
    timeoutMs: 200,
    message: `sh -c ${script}: killed after 200 ms`,
  });
  const pids = (await Deno.readTextFile(`${dir}/pids`)).trim().split(" ");
  assert.equal(pids.length, 2);
  for (const pid of pids) {
    assert.equal(await isRunning(Number(pid)), false, `pid ${pid} survived`);
  }
});

Deno.test("denoRunner leaves a command that finishes in time alone", async () => {
  const result = await denoRunner.run("sh", ["-c", "echo done"], {
    timeoutMs: 10_000,
  });
  assert.deepEqual(result, { ok: true, stdout: "done\n", stderr: "" });
});

/** A killed orphan is reaped by init shortly after, so poll briefly. */
async function isRunning(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      // A zombie is dead, just not yet reaped.
      if (stat.split(") ")[1]?.startsWith("Z")) return false;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
