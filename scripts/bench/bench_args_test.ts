import assert from "node:assert/strict";
import { BENCH_USAGE, BENCHES, parseBenchArgs } from "./bench_args.ts";

Deno.test("parseBenchArgs() reads benchmarks and options in any order", () => {
  assert.deepEqual(
    parseBenchArgs(["--quick", "ingest", "--adapters=deno", "--json=/tmp/x"]),
    {
      ok: true,
      args: {
        benches: ["ingest"],
        quick: true,
        adapters: ["deno"],
        jsonPath: "/tmp/x",
      },
    },
  );
  assert.deepEqual(parseBenchArgs(["all", "--json", "out.json"]), {
    ok: true,
    args: {
      benches: [...BENCHES],
      quick: false,
      adapters: ["deno", "node"],
      jsonPath: "out.json",
    },
  });
});

Deno.test("parseBenchArgs() --help gives the usage, and bad words an error with it", () => {
  assert.deepEqual(parseBenchArgs(["all", "--help"]), {
    ok: true,
    help: true,
    usage: BENCH_USAGE,
  });
  const cases: [string[], RegExp][] = [
    [["ingest", "--fast"], /^Unknown option '--fast'/],
    [["ingest", "--adapters=deno,bun"], /^bad --adapters=deno,bun\n/],
    [["speed"], /^unknown benchmark speed\n/],
    [[], /^usage: /],
  ];
  for (const [argv, pattern] of cases) {
    const r = parseBenchArgs(argv);
    assert.equal(r.ok, false, JSON.stringify(argv));
    if (!r.ok) {
      assert.match(r.error, pattern);
      assert.ok(r.error.endsWith(BENCH_USAGE));
    }
  }
});
