/**
 * Entry point of the fake PVE tools: `bin/pvesh` and friends exec
 * `deno run fake_tool.ts <tool> args…`. The node profile comes from
 * PROXMON_FAKE_NODE (a path to a TOML profile).
 */
import { answer } from "./answer.ts";
import { buildNodeModel } from "./node_model.ts";
import { loadNodeProfile } from "./node_profile.ts";

/** The environment variable naming the node profile file. */
export const PROFILE_ENV = "PROXMON_FAKE_NODE";

async function main(argv: string[]): Promise<number> {
  const [tool, ...args] = argv;
  const path = Deno.env.get(PROFILE_ENV);
  if (!path) {
    console.error(
      `fake ${tool}: set ${PROFILE_ENV} to a node profile (scripts/fake_node/profiles/*.toml)`,
    );
    return 2;
  }
  const model = buildNodeModel(await loadNodeProfile(path));
  // pvesh pays for a Perl start-up on every call
  if (tool === "pvesh" && model.latencyMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, model.latencyMs));
  }
  const result = answer(model, tool, args, Date.now());
  const encoder = new TextEncoder();
  if (result.stderr) await writeAll(Deno.stderr, encoder.encode(result.stderr));
  if (result.stdout) await writeAll(Deno.stdout, encoder.encode(result.stdout));
  return result.code;
}

async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
) {
  let off = 0;
  while (off < data.length) off += await w.write(data.subarray(off));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
