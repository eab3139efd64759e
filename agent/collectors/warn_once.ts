/**
 * A warning that goes to the agent's log once per cause, however many
 * cycles hit it (a missing smartctl or a permission problem stays until an
 * admin acts). The payload's `errors` still carry it every time.
 */
export type WarnOnce = (key: string, message: string) => void;

export function warnOnceVia(warn?: (message: string) => void): WarnOnce {
  const seen = new Set<string>();
  return (key, message) => {
    if (seen.has(key)) return;
    seen.add(key);
    warn?.(message);
  };
}
