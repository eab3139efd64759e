import assert from "node:assert/strict";
import { CliArgsError, parseCliArgs } from "./cli.ts";

Deno.test("parseCliArgs() reads every flag", async (t) => {
  const cases: [string[], ReturnType<typeof parseCliArgs>][] = [
    [[], {
      mode: "run",
      configPath: undefined,
      node: undefined,
      procDir: undefined,
    }],
    [["--config", "/tmp/a.toml"], {
      mode: "run",
      configPath: "/tmp/a.toml",
      node: undefined,
      procDir: undefined,
    }],
    [["--once", "--node", "pve1", "--proc-dir", "/x/proc"], {
      mode: "once",
      configPath: undefined,
      node: "pve1",
      procDir: "/x/proc",
    }],
    [["--node=pve2", "--once"], {
      mode: "once",
      configPath: undefined,
      node: "pve2",
      procDir: undefined,
    }],
    [["--once", "--version"], {
      mode: "version",
      configPath: undefined,
      node: undefined,
      procDir: undefined,
    }],
    [["--version", "--help"], {
      mode: "help",
      configPath: undefined,
      node: undefined,
      procDir: undefined,
    }],
  ];
  for (const [args, expected] of cases) {
    await t.step(args.join(" ") || "(none)", () => {
      assert.deepEqual(parseCliArgs(args), expected);
    });
  }
});

Deno.test("parseCliArgs() rejects what it does not know, with a pointer to --help", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--verbose"], /Unknown option '--verbose'.*\(see --help\)$/],
    [["--config"], /--config.*argument missing.*\(see --help\)$/],
    [["run"], /Unexpected argument 'run'.*\(see --help\)$/],
    [["--node", ""], /^--node needs a value \(see --help\)$/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => {
      assert.throws(
        () => parseCliArgs(args),
        (err) => err instanceof CliArgsError && message.test(err.message),
      );
    });
  }
});
