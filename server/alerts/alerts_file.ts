/** Reads ALERTS_FILE; a missing file means the built-in rules and no channels. */
import { type AlertsConfig, resolveAlertsConfig } from "./alerts_config.ts";
import { BUILTIN_RULES } from "./rules/mod.ts";

/** Loads and resolves alerts.toml; throws AlertsConfigError on a bad key. */
export async function loadAlertsConfig(path: string): Promise<AlertsConfig> {
  let text: string | null = null;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return resolveAlertsConfig(text, path, BUILTIN_RULES);
}
