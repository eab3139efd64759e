/**
 * The WebSocket close codes of the agent protocol, one table for both ends:
 * the server closes with them, the agent names them in its log lines. The
 * numbers are RFC 6455's; the names say what they mean in proxmon.
 */
export const CLOSE_CODES = {
  /** a newer connection for the same host took over (1000, normal closure) */
  replaced: 1000,
  /** the server is shutting down (1001, going away) */
  shutdown: 1001,
  /** unauthorized, join timeout, bad join, protocol (1008, policy violation) */
  refused: 1008,
  /** a frame above the server's limit (1009, message too big) */
  tooLarge: 1009,
  /** the server could not store a sample (1011, internal error) */
  internal: 1011,
} as const;

export type CloseName = keyof typeof CLOSE_CODES;

const NAMES = new Map<number, CloseName>(
  Object.entries(CLOSE_CODES).map(([name, code]) => [code, name as CloseName]),
);

/** The proxmon name of a close code, or undefined for one it does not use. */
export function closeName(code: number): CloseName | undefined {
  return NAMES.get(code);
}
