import assert from "node:assert/strict";
import { memoryLogger } from "@proxmon/shared/logger";
import { Outbox } from "./outbox.ts";
import { indexes, sample } from "./testing/outbox_samples.ts";
import { OutboxFile, OutboxFileError } from "./outbox_file.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

/**
 * An outbox file in a fresh temporary directory, an empty outbox of `bound`
 * samples to save in it, and `reload()`, which reads the file as a
 * restarted agent would.
 */
async function savedOutbox(bound: number) {
  const tmp = await tempDir();
  const path = `${tmp.path}/outbox.json`;
  return {
    path,
    file: new OutboxFile(path),
    outbox: new Outbox(bound, memoryLogger()),
    reload: (log = memoryLogger()) => new OutboxFile(path).load(bound, log),
    [Symbol.asyncDispose]: () => tmp[Symbol.asyncDispose](),
  };
}

Deno.test("OutboxFile rewrite() and load() round-trip every unacked sample", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const path = `${dir}/state/outbox.json`;
  const outbox = new Outbox(10, memoryLogger());
  for (let i = 0; i < 4; i++) outbox.add(sample(i));
  outbox.ack(0);
  await new OutboxFile(path).rewrite(outbox);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.deepEqual(
    [...Deno.readDirSync(`${dir}/state`)].map((e) => e.name),
    ["outbox.json"],
    "no temp file is left behind",
  );
  const loaded = await new OutboxFile(path).load(10, memoryLogger());
  assert.deepEqual(loaded.samples(), outbox.samples());
  assert.deepEqual(indexes(loaded), [1, 2, 3]);
});

Deno.test("OutboxFile.load() starts empty when there is no file", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const loaded = await new OutboxFile(`${dir}/none.json`).load(
    10,
    memoryLogger(),
  );
  assert.equal(loaded.size, 0);
});

Deno.test("OutboxFile.load() keeps the newest samples when the bound shrank", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const outbox = new Outbox(10, memoryLogger());
  for (let i = 0; i < 5; i++) outbox.add(sample(i));
  await new OutboxFile(`${dir}/o.json`).rewrite(outbox);
  const loaded = await new OutboxFile(`${dir}/o.json`).load(
    2,
    memoryLogger(),
  );
  assert.deepEqual(indexes(loaded), [3, 4]);
  assert.equal(loaded.stats.dropped, 3);
});

Deno.test("OutboxFile.load() names the file when it is damaged", async (t) => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const path = `${dir}/o.json`;
  await t.step("not JSON", async () => {
    await Deno.writeTextFile(path, "{not json");
    const err = await new OutboxFile(path).load(10, memoryLogger()).then(
      () => assert.fail("accepted a broken file"),
      (e) => e,
    );
    assert.ok(err instanceof OutboxFileError);
    assert.match(err.message, new RegExp(`^${path}: not valid JSON: `));
  });
  await t.step("a sample with a bad interval", async () => {
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        format: "proxmon-outbox",
        version: 1,
        samples: [{ interval: "hourly", collected_at: "x", data: {} }],
      }),
    );
    const err = await new OutboxFile(path).load(10, memoryLogger()).then(
      () => assert.fail("accepted a bad sample"),
      (e) => e,
    );
    assert.ok(err instanceof OutboxFileError);
    assert.match(
      err.message,
      new RegExp(`^${path}: not a proxmon outbox: samples\\.0\\.interval: `),
    );
  });
});

Deno.test("OutboxFile.checkpoint() appends only the changes, and load() replays them", async () => {
  await using saved = await savedOutbox(100);
  const { path, file, outbox } = saved;
  for (let i = 0; i < 50; i++) outbox.add(sample(i));
  await file.rewrite(outbox);
  const before = await Deno.readTextFile(path);
  outbox.ack(0);
  outbox.ack(1);
  outbox.add(sample(50));
  await file.checkpoint(outbox);
  const after = await Deno.readTextFile(path);
  assert.ok(after.startsWith(before), "the saved part is not rewritten");
  assert.equal(
    after.slice(before.length).split("\n").filter(Boolean).length,
    2,
    "one delete line and one add line",
  );
  const loaded = await saved.reload();
  assert.deepEqual(loaded.samples(), outbox.samples());
});

Deno.test("OutboxFile.checkpoint() compacts once removed samples outnumber the queued", async () => {
  await using saved = await savedOutbox(5000);
  const { path, file, outbox } = saved;
  await file.rewrite(outbox);
  for (let round = 0; round < 3; round++) {
    const seqs = [];
    for (let i = 0; i < 600; i++) seqs.push(outbox.add(sample(i)));
    await file.checkpoint(outbox);
    for (const seq of seqs) outbox.ack(seq);
    outbox.add(sample(round));
    await file.checkpoint(outbox);
  }
  const lines = (await Deno.readTextFile(path)).split("\n").filter(Boolean);
  assert.ok(lines.length < 700, `compacted: ${lines.length} lines`);
  const loaded = await saved.reload();
  assert.deepEqual(indexes(loaded), [0, 1, 2]);
});

Deno.test("OutboxFile.load() keeps the complete lines before a torn last one", async () => {
  await using saved = await savedOutbox(10);
  const { path, file, outbox } = saved;
  outbox.add(sample(0));
  await file.rewrite(outbox);
  outbox.add(sample(1));
  await file.checkpoint(outbox);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, text + '{"add":7,"sample":{"interv');
  const log = memoryLogger();
  const loaded = await saved.reload(log);
  assert.deepEqual(indexes(loaded), [0, 1]);
  assert.match(log.lines.join("\n"), /last line was cut short/);
});

Deno.test("OutboxFile.load() reads a version 1 outbox saved by an older agent", async () => {
  await using saved = await savedOutbox(10);
  const { path, file } = saved;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      format: "proxmon-outbox",
      version: 1,
      samples: [sample(4), sample(5)],
    }),
  );
  const loaded = await file.load(10, memoryLogger());
  assert.deepEqual(indexes(loaded), [4, 5]);
  await file.rewrite(loaded);
  const again = await saved.reload();
  assert.deepEqual(indexes(again), [4, 5]);
  assert.match(
    await Deno.readTextFile(path),
    /^\{"format":"proxmon-outbox","version":2\}\n/,
  );
});
