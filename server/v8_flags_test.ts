import assert from "node:assert/strict";
import { v8FlagsArg } from "@proxmon/shared/v8_flags";
import { SERVER_V8_FLAGS } from "./v8_flags.ts";

const ROOT = new URL("..", import.meta.url);
const [FLAGS] = v8FlagsArg(SERVER_V8_FLAGS);

Deno.test("deno task serve and the systemd unit run the server with SERVER_V8_FLAGS", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  assert.equal(
    config.tasks.serve.command,
    `deno run -A ${FLAGS} server/main.ts`,
  );
  const unit = await Deno.readTextFile(
    new URL("server/proxmon.service", ROOT),
  );
  const exec = unit.split("\n").find((l) => l.startsWith("ExecStart="));
  assert.equal(
    exec,
    `ExecStart=/usr/local/bin/deno run -A --cached-only ${FLAGS} server/main.ts`,
  );
});

Deno.test("this Deno's V8 knows every one of SERVER_V8_FLAGS (an unknown flag stops deno at start)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", FLAGS, "console.log('started')"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "started");
});
