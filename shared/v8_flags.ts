/** The `--v8-flags=...` argument of `deno run` for `flags`; none for no flags. */
export function v8FlagsArg(flags: readonly string[]): string[] {
  return flags.length ? [`--v8-flags=${flags.join(",")}`] : [];
}
