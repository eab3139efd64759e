/** Test helper: runs one of the fake tools in bin/ as a real process. */

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = `${import.meta.dirname}/bin`;

/**
 * Runs `bin/<tool> args…` with `env` (on top of this process's environment,
 * or instead of it with `clearEnv`) and collects what it printed.
 */
export async function runTool(
  tool: string,
  args: readonly string[],
  env: Record<string, string>,
  clearEnv = false,
): Promise<ToolRun> {
  const out = await new Deno.Command(`${BIN}/${tool}`, {
    args: [...args],
    env,
    clearEnv,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}
