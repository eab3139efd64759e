/**
 * A VM's file systems as its QEMU guest agent reports them:
 * `…/qemu/{vmid}/agent/get-fsinfo` answers `{"result": [...]}` (the raw
 * guest-agent reply, as `qm guest cmd VMID get-fsinfo` prints it) with one
 * entry per mounted file system: `name`, `mountpoint`, `type`,
 * `total-bytes`, `used-bytes` and the `disk` devices behind it.
 *
 * Only file systems on a virtual disk count (`disk` not empty): snap
 * squashfs loops, tmpfs and the like have no disk and say nothing about the
 * guest's storage. A mount point listed twice (bind mounts) counts once.
 */
import type { GuestFilesystem } from "@proxmon/shared";
import { isRecord, stringOr } from "../values.ts";
import { guestAgentAnswer } from "./guest_agent_answer.ts";

export type FsinfoResult =
  | { ok: true; filesystems: GuestFilesystem[] }
  | { ok: false; message: string };

const bytes = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) && value >= 0
    ? value
    : null;

/** Parses a get-fsinfo answer: `{result: [...]}`, `{data: {result}}` or the bare list. */
export function parseGuestFsinfoValue(value: unknown): FsinfoResult {
  const answer = guestAgentAnswer(value, true);
  if (!answer.ok) return answer;
  const { result } = answer;
  if (!Array.isArray(result)) {
    return { ok: false, message: 'guest agent fsinfo: no "result" list' };
  }
  const seen = new Set<string>();
  const filesystems: GuestFilesystem[] = [];
  for (const entry of result) {
    if (!isRecord(entry)) continue;
    const mountpoint = stringOr(entry.mountpoint);
    const disks = Array.isArray(entry.disk) ? entry.disk : [];
    if (mountpoint === null || disks.length === 0 || seen.has(mountpoint)) {
      continue;
    }
    const total = bytes(entry["total-bytes"]);
    const used = bytes(entry["used-bytes"]);
    if (total === null || used === null) continue;
    seen.add(mountpoint);
    filesystems.push({
      mountpoint,
      type: stringOr(entry.type),
      total_bytes: total,
      used_bytes: Math.min(used, total),
    });
  }
  return { ok: true, filesystems };
}
