/**
 * The envelope of a QEMU guest-agent answer, shared by every
 * `…/qemu/{vmid}/agent/*` reader: the API wraps the raw reply in `data`,
 * `qm guest cmd` prints it bare, and a failing agent answers `{error}`.
 */
import { isRecord, stringOr } from "../values.ts";

export type GuestAgentAnswer =
  | { ok: true; result: unknown }
  | { ok: false; message: string };

/**
 * Unwraps `{result}` or `{data: {result}}`; with `bareList`, a value that is
 * no record at all is taken as the result itself (get-fsinfo's bare list).
 */
export function guestAgentAnswer(
  value: unknown,
  bareList: boolean,
): GuestAgentAnswer {
  let body = value;
  if (isRecord(body) && isRecord(body.data)) body = body.data;
  const result = isRecord(body) ? body.result : bareList ? body : undefined;
  if (isRecord(result) && isRecord(result.error)) {
    const { class: cls, desc } = result.error;
    return {
      ok: false,
      message: `guest agent error: ${stringOr(cls) ?? "unknown"}: ${
        stringOr(desc) ?? ""
      }`.trim(),
    };
  }
  return { ok: true, result };
}
