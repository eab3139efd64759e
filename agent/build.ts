/**
 * How the agent ships, in one place: `deno task bundle:agent` and
 * `deno task compile:agent*` run this file, and the packaging test and the
 * agent benchmark run the bundle with the same flags the binary gets.
 *
 * The binary is compiled from the bundle, not from agent/main.ts: compiling
 * the source inside this workspace embeds the whole local node_modules
 * (playwright, drizzle-kit, ...), about 90 MB the agent never loads.
 */

/**
 * The agent's permissions: `--allow-all`, because Deno 2.9 allows nothing
 * narrower that can read /proc.
 *
 * Deno treats every path under /proc, /sys and /dev as a "special file"
 * (runtime/permissions, `check_special_file`): reading one needs the `all`
 * permission, not read access. Only the bare `--allow-all` flag grants
 * `all`; `--allow-read`, `--allow-read=/proc`, `--allow-read=/proc/stat`
 * and even `--allow-all` plus any `--deny-*` flag all fail with
 * `NotCapable: Requires all access to "/proc/stat"`. The exceptions are
 * `/proc/pressure/*` (readable with `--allow-read` since Deno 2.5), pipes
 * under /proc/self/fd, and /dev/null, /dev/zero, /dev/(u)random. The agent
 * needs /proc/stat, meminfo, loadavg, uptime, net/dev, diskstats and
 * spl/kstat/zfs/arcstats, and each guest's cgroup pressure files under
 * /sys/fs/cgroup, so it needs `all`. packaging_test.ts checks both
 * halves against this Deno: the narrow set cannot read /proc/stat, this one
 * can; when a later Deno lets a narrower set through, that test fails and
 * this list should shrink again.
 *
 * What that costs is small: the agent already needed unrestricted
 * `--allow-run` (pvesh, zpool, zfs, pveversion, apt), and a process that may
 * run any program as root may do anything; the systemd unit's sandboxing
 * (proxmon-agent.service) is what actually limits it. `--allow-all` adds
 * environment, FFI and the remaining `sys` calls, none of which it uses.
 */
export const AGENT_PERMISSIONS = ["--allow-all"] as const;

/**
 * The flags the agent needed before Deno counted /proc as special: read and
 * write files, the server and the PVE API over the network, the PVE tools,
 * and the hostname. Kept to show, in packaging_test.ts, that they are not
 * enough on this Deno.
 */
export const NARROW_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-run",
  "--allow-sys=hostname",
] as const;

/**
 * V8 settings baked into the binary. The agent's heap is small (under
 * 15 MB) and its cycles are short, so V8's defaults, sized for servers and
 * browsers, mostly buy memory the agent does not need; BENCHMARKS.md has the
 * measurements behind each flag. `--expose-gc` gives the agent the `gc()`
 * with which it collects after its cycles once their garbage adds up
 * (heap_trim.ts): V8 alone lets the old generation grow 8 MB first.
 */
export const AGENT_V8_FLAGS = [
  "--max-semi-space-size=1",
  "--lite-mode",
  "--expose-gc",
] as const;

export const BUNDLE_PATH = "dist/proxmon-agent.js";

export const TARGETS = {
  x86_64: "x86_64-unknown-linux-gnu",
  aarch64: "aarch64-unknown-linux-gnu",
} as const;
export type Arch = keyof typeof TARGETS;

export const binaryPath = (arch: Arch) => `dist/proxmon-agent-${arch}-linux`;

/** The `--v8-flags=...` argument for `flags`, none for no flags. */
export function v8FlagsArg(
  flags: readonly string[] = AGENT_V8_FLAGS,
): string[] {
  return flags.length ? [`--v8-flags=${flags.join(",")}`] : [];
}

/**
 * `deno run` flags that run the bundle the way the binary runs; benchmarks
 * may try other V8 flags.
 */
export function bundleRunFlags(
  v8Flags: readonly string[] = AGENT_V8_FLAGS,
): string[] {
  return ["--no-config", ...AGENT_PERMISSIONS, ...v8FlagsArg(v8Flags)];
}

export function bundleArgs(out = BUNDLE_PATH): string[] {
  return ["bundle", "--platform", "deno", "-o", out, "agent/main.ts"];
}

export function compileArgs(
  opts: { target?: string; bundle?: string; out: string },
): string[] {
  return [
    "compile",
    // The bundle imports nothing, so no config, lockfile or node_modules.
    "--no-config",
    ...(opts.target ? ["--target", opts.target] : []),
    ...AGENT_PERMISSIONS,
    ...v8FlagsArg(),
    "-o",
    opts.out,
    opts.bundle ?? BUNDLE_PATH,
  ];
}

/**
 * Runs `deno` with args from `cwd` (and `env` on top of this process's);
 * returns its stderr, and throws with it on failure.
 */
export async function deno(
  args: string[],
  cwd: string,
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")} failed:\n${stderr}`);
  }
  return stderr;
}

async function main(args: string[]): Promise<void> {
  const root = new URL("..", import.meta.url).pathname;
  const [command, ...archs] = args;
  if (command !== "bundle" && command !== "compile") {
    throw new Error("usage: build.ts bundle | compile [x86_64] [aarch64]");
  }
  await deno(bundleArgs(), root);
  console.log(`bundled ${BUNDLE_PATH}`);
  if (command === "bundle") return;
  const wanted = archs.length ? archs : Object.keys(TARGETS);
  for (const arch of wanted) {
    if (!(arch in TARGETS)) throw new Error(`unknown architecture: ${arch}`);
    const out = binaryPath(arch as Arch);
    try {
      await deno(compileArgs({ target: TARGETS[arch as Arch], out }), root);
    } catch (e) {
      throw new Error(
        `${(e as Error).message}\n` +
          "deno compile downloads its runtime (denort) from dl.deno.land; " +
          "without internet access, set DENORT_BIN to a denort binary of " +
          "the same Deno version and target.",
      );
    }
    console.log(`compiled ${out}`);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}
