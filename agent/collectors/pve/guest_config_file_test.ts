import assert from "node:assert/strict";
import { readFixture } from "../../testing/fixtures.ts";
import {
  configDigest,
  guestConfigPath,
  parseGuestConfigFile,
} from "./guest_config_file.ts";
import { lxcNeedsLiveIps, qemuAgentEnabled } from "./guest_ips.ts";

Deno.test("parseGuestConfigFile() reads the current config of a real qemu-server file, not its snapshot", () => {
  const text = readFixture("pmxcfs/qemu-server/101_with_snapshot.conf");
  const { config, errors } = parseGuestConfigFile(text, "101.conf");
  assert.deepEqual(errors, []);
  assert.equal(config.cores, "2"); // the snapshot [test] has 4
  assert.equal(config.memory, "4096");
  assert.equal(config.parent, "test");
  assert.equal(config.description, " this is a description");
  assert.equal(config.snaptime, undefined);
  assert.equal(config.vmstate, undefined);
  assert.equal(
    config.net0,
    "e1000=12:34:56:78:90:12,bridge=somebr0,firewall=1",
  );
  assert.ok(qemuAgentEnabled(config));
});

Deno.test("parseGuestConfigFile() reads a real container file: dhcp NIC, snapshot left out", () => {
  const text = readFixture("pmxcfs/lxc/101_with_snapshot.conf");
  const { config, errors } = parseGuestConfigFile(text, "101.conf");
  assert.deepEqual(errors, []);
  assert.equal(config.hostname, "test"); // test2 in the snapshot
  assert.equal(config.cpulimit, "1");
  assert.equal(config.unused0, "preserved:some-disk-1");
  assert.equal(config.description, " should be preserved");
  assert.ok(lxcNeedsLiveIps(config), "ip=dhcp needs the live interfaces");
});

Deno.test("parseGuestConfigFile() never passes on a cloud-init password", () => {
  const text = readFixture("pmxcfs/qemu-server/101_cloudinit_cipassword.conf");
  const { config, errors } = parseGuestConfigFile(text, "101.conf");
  assert.deepEqual(errors, []);
  assert.equal("cipassword" in config, false);
  assert.doesNotMatch(JSON.stringify(config), /\$5\$/);
  assert.equal(config.ciuser, "ubuntu");
  assert.equal(config.ipconfig0, "ip=dhcp");
});

Deno.test("parseGuestConfigFile() reports lines it cannot read, raw lxc keys and [PENDING] aside", () => {
  const { config, errors } = parseGuestConfigFile(
    [
      "hostname: ct",
      "lxc.apparmor.profile: unconfined",
      "lxc.cgroup2.devices.allow = c 10:200 rwm",
      "this is not a key",
      "[PENDING]",
      "hostname: renamed",
    ].join("\n"),
    "x.conf",
  );
  assert.equal(config.hostname, "ct");
  assert.deepEqual(config.lxc, [
    ["lxc.apparmor.profile", "unconfined"],
    ["lxc.cgroup2.devices.allow", "c 10:200 rwm"],
  ]);
  assert.deepEqual(errors, [{
    tag: "guest_config",
    message: 'x.conf: unreadable line "this is not a key"',
  }]);
});

Deno.test("guestConfigPath() and configDigest() follow pmxcfs and PVE", async () => {
  assert.equal(
    guestConfigPath("/etc/pve/", "pve1", "qemu", 100),
    "/etc/pve/nodes/pve1/qemu-server/100.conf",
  );
  assert.equal(
    guestConfigPath("/etc/pve", "pve1", "lxc", 200),
    "/etc/pve/nodes/pve1/lxc/200.conf",
  );
  // sha1("abc")
  assert.equal(
    await configDigest("abc"),
    "a9993e364706816aba3e25717850c26c9cd0d89d",
  );
});
