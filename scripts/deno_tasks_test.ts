/** The task list `deno task` shows a newcomer: every task says what it does. */
import assert from "node:assert/strict";
import { ROOT } from "./smoke/stack.ts";

Deno.test("every task in deno.json has a description", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)) as {
    tasks: Record<string, string | { description?: string; command: string }>;
  };
  const bare = Object.entries(config.tasks)
    .filter(([, task]) => typeof task === "string" || !task.description?.trim())
    .map(([name]) => name);
  assert.deepEqual(bare, []);
  assert.ok(Object.keys(config.tasks).length >= 10);
});

Deno.test("`deno task host --help` and `deno task host` exit 0 and list the commands", async () => {
  for (const args of [["host", "--help"], ["host"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", ...args],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /^usage: deno task host COMMAND/);
    assert.match(text, /^ {2}api-tokens /m);
  }
});

Deno.test(".gitignore ignores no source file of the repository", async () => {
  const patterns = (await Deno.readTextFile(`${ROOT}/.gitignore`))
    .split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  // scripts/demo.ts and scripts/smoke_test.ts were once listed here
  const sources = patterns.filter((p) => /\.(ts|tsx|js|json|md)$/.test(p));
  assert.deepEqual(sources, []);
  for (const p of patterns) {
    const plain = p.replace(/\/$/, "");
    if (/[*?[]/.test(plain)) continue;
    const info = await Deno.stat(`${ROOT}/${plain}`).catch(() => null);
    assert.ok(!info?.isFile, `${p} is a file in the repository`);
  }
});

Deno.test("the systemd unit runs the server with the serve task's flags, which the benchmarks use", async () => {
  const { serveArgs } = await import("./bench/server_process.ts");
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  const args = serveArgs(tasks.serve.command);
  const v8 = args.filter((a) => a.startsWith("--v8-flags="));
  assert.equal(v8.length, 1, tasks.serve.command);
  const unit = await Deno.readTextFile(`${ROOT}/server/proxmon.service`);
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";
  assert.deepEqual(
    serveArgs(exec).filter((a) => a.startsWith("--v8-flags=")),
    v8,
  );
  assert.throws(() => serveArgs("deno task other"), /serve task/);
});
