import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import { parseGuestFsinfoValue } from "./guest_fsinfo.ts";

const real = () =>
  JSON.parse(
    readFixture("pvesh/real/qm_guest_cmd_get-fsinfo__ubuntu_snap_excerpt.json"),
  );

Deno.test("parseGuestFsinfoValue() keeps file systems on a virtual disk from a real reply, not snap loops", () => {
  const expected = {
    ok: true,
    filesystems: [{
      mountpoint: "/boot",
      type: "ext4",
      total_bytes: 1916223488,
      used_bytes: 275972096,
    }],
  };
  // `qm guest cmd` prints the bare list; pvesh and the API wrap it
  assert.deepEqual(parseGuestFsinfoValue(real()), expected);
  assert.deepEqual(parseGuestFsinfoValue({ result: real() }), expected);
  assert.deepEqual(
    parseGuestFsinfoValue({ data: { result: real() } }),
    expected,
  );
});

Deno.test("parseGuestFsinfoValue() reports a guest-agent error and odd entries", () => {
  const error = parseGuestFsinfoValue({
    result: { error: { class: "CommandNotFound", desc: "not supported" } },
  });
  assert.deepEqual(error, {
    ok: false,
    message: "guest agent error: CommandNotFound: not supported",
  });
  assert.equal(parseGuestFsinfoValue("nope").ok, false);
  const [boot] = real().slice(1);
  const odd = parseGuestFsinfoValue([
    boot,
    boot, // a bind mount: the same mount point again
    { ...boot, mountpoint: "/data", "total-bytes": "lots" },
    { ...boot, mountpoint: "/full", "used-bytes": 2e9 },
  ]);
  assert.ok(odd.ok);
  assert.deepEqual(
    odd.ok && odd.filesystems.map((f) => [f.mountpoint, f.used_bytes]),
    [["/boot", 275972096], ["/full", 1916223488]],
  );
});
