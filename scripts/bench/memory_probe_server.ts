/**
 * The real server (`server/main.ts`), plus one diagnostic: on SIGUSR2 it
 * appends a JSON line to the file named by `BENCH_MEMORY_LOG` with
 * `Deno.memoryUsage()`, V8's heap spaces and glibc's `mallinfo2()` (Deno,
 * its Rust parts and the SQLite driver all allocate through glibc malloc),
 * so a benchmark can tell what part of the RSS is the JavaScript heap, what
 * is native memory in use, and what is free memory the allocator kept.
 *
 * `BENCH_MEMORY_DIAGNOSE=1` also runs a full GC (needs `--expose-gc`) and
 * `malloc_trim(0)` after the reading and reads again: what is live, and
 * what the allocator could give back. It changes what it measures, so a
 * run that reports figures leaves it off.
 */
import { getHeapSpaceStatistics } from "node:v8";
import { main } from "../../server/main.ts";

const MB = 1024 * 1024;
const mb = (n: number | bigint) => Math.round(Number(n) / MB * 10) / 10;

const MALLINFO2 = [
  "arena",
  "ordblks",
  "smblks",
  "hblks",
  "hblkhd",
  "usmblks",
  "fsmblks",
  "uordblks",
  "fordblks",
  "keepcost",
] as const;

function openLibc() {
  return Deno.dlopen("libc.so.6", {
    mallinfo2: {
      parameters: [],
      result: { struct: MALLINFO2.map(() => "usize" as const) },
    },
    malloc_trim: { parameters: ["usize"], result: "i32" },
  });
}

type Libc = ReturnType<typeof openLibc>;

/** glibc's view: bytes in use and free in its arenas, and mmapped blocks. */
function mallinfo(libc: Libc) {
  const raw = libc.symbols.mallinfo2();
  const view = new BigUint64Array(raw.buffer, raw.byteOffset, MALLINFO2.length);
  const f = Object.fromEntries(MALLINFO2.map((k, i) => [k, view[i]]));
  return {
    /** bytes the arenas hold from the system (brk and per-thread heaps) */
    arenaMb: mb(f.arena),
    /** of that, allocated */
    inUseMb: mb(f.uordblks),
    /** of that, free but kept */
    freeMb: mb(f.fordblks),
    /** large blocks mmapped on their own */
    mmappedMb: mb(f.hblkhd),
  };
}

/** RssAnon, RssFile and RssShmem of this process, in MB. */
function rssParts(): Record<string, number> {
  const status = Deno.readTextFileSync("/proc/self/status");
  const out: Record<string, number> = {};
  for (const key of ["RssAnon", "RssFile", "RssShmem"]) {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(status);
    if (m) out[key] = mb(Number(m[1]) * 1024);
  }
  return out;
}

function reading(libc: Libc) {
  const m = Deno.memoryUsage();
  return {
    rss: mb(m.rss),
    ...rssParts(),
    heapTotal: mb(m.heapTotal),
    heapUsed: mb(m.heapUsed),
    external: mb(m.external),
    malloc: mallinfo(libc),
    spaces: Object.fromEntries(
      getHeapSpaceStatistics()
        .filter((s) => s.space_size > 0)
        .map((s) => [
          s.space_name,
          { size: mb(s.space_size), used: mb(s.space_used_size) },
        ]),
    ),
  };
}

if (import.meta.main) {
  const path = Deno.env.get("BENCH_MEMORY_LOG");
  const diagnose = Deno.env.get("BENCH_MEMORY_DIAGNOSE") === "1";
  if (path) {
    const libc = openLibc();
    Deno.addSignalListener("SIGUSR2", () => {
      const line: Record<string, unknown> = {
        at: Date.now(),
        before: reading(libc),
      };
      if (diagnose) {
        (globalThis as { gc?: () => void }).gc?.();
        line.afterGc = reading(libc);
        libc.symbols.malloc_trim(0n);
        line.afterTrim = reading(libc);
      }
      Deno.writeTextFileSync(path, JSON.stringify(line) + "\n", {
        append: true,
      });
    });
  }
  Deno.exit(await main(Deno.env.toObject()));
}
