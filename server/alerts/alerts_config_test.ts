import * as assert from "node:assert/strict";
import {
  AlertsConfigError,
  CHANNEL_TYPES,
  resolveAlertsConfig,
  settingsFor,
} from "./alerts_config.ts";
import { BUILTIN_RULES } from "./rules/mod.ts";

const EXAMPLE = `${import.meta.dirname}/../alerts.toml.example`;
const resolve = (text: string | null) =>
  resolveAlertsConfig(text, "alerts.toml", BUILTIN_RULES);
const refuse = (text: string, message: string) => {
  assert.throws(() => resolve(text), (err: unknown) => {
    assert.ok(err instanceof AlertsConfigError);
    assert.equal(err.message, message);
    return true;
  });
};
const rule = (id: string) => BUILTIN_RULES.find((r) => r.id === id)!;

Deno.test("no file: the built-in rules with their defaults and no channels", () => {
  const c = resolve(null);
  assert.equal(c.channels.length, 0);
  assert.equal(c.repeatAfterMs, 86_400_000);
  assert.equal(c.groupWindowMs, 30_000);
  assert.equal(c.capPerHour, 30);
  const s = settingsFor(rule("pool_capacity"), c.rules, {
    host: "h",
    kind: "pool",
    object: "tank",
  });
  assert.deepEqual([s.warn, s.crit, s.forMs], [80, 90, 600_000]);
});

Deno.test("the example file, with every key, resolves", async () => {
  const c = resolve(await Deno.readTextFile(EXAMPLE));
  // one channel of each type, in the order of the table
  assert.deepEqual(c.channels.map((ch) => ch.type), [...CHANNEL_TYPES]);
  assert.equal(c.publicUrl, "https://monitor.example");
  // every rule appears, and every rule-specific key of each
  for (const r of BUILTIN_RULES) {
    assert.ok(c.rules.some((e) => e.id === r.id), r.id);
  }
  const backup = settingsFor(rule("pool_capacity"), c.rules, {
    host: "pve-backup",
    kind: "pool",
    object: "backup",
  });
  assert.deepEqual([backup.warn, backup.crit], [95, 98]);
  const lab = settingsFor(rule("guest_down"), c.rules, {
    host: "x",
    kind: "guest",
    object: "300",
    tags: ["lab"],
  });
  assert.equal(lab.enabled, false);
  assert.equal(
    settingsFor(rule("scrub_overdue"), c.rules, {
      host: "x",
      kind: "pool",
      object: "p",
    }).crit,
    null,
  );
});

Deno.test("a bad key is refused with one line naming it", async (t) => {
  await t.step(
    "unknown top-level key",
    () =>
      refuse(
        `pubilc_url = "https://x"`,
        "alerts.toml: pubilc_url: unknown key",
      ),
  );
  await t.step("unknown channel key", () =>
    refuse(
      `[[channel]]\nname = "a"\ntype = "webhook"\nurl = "http://127.0.0.1/"\nsecrett = "x"`,
      "alerts.toml: channel[0].secrett: unknown key",
    ));
  await t.step("unknown channel type", () =>
    refuse(
      `[[channel]]\nname = "a"\ntype = "pager"`,
      "alerts.toml: channel[0].type: must be one of webhook, ntfy, gotify, email, discord, slack, telegram",
    ));
  await t.step(
    "missing url",
    () =>
      refuse(
        `[[channel]]\nname = "a"\ntype = "slack"`,
        "alerts.toml: channel[0].url: missing",
      ),
  );
  await t.step("unknown rule", () =>
    assert.throws(
      () => resolve(`[[rule]]\nid = "pool_on_fire"`),
      /^AlertsConfigError: alerts.toml: rule\[0\]\.id: unknown rule "pool_on_fire" \(known: host_offline,/,
    ));
  await t.step("a key of another rule", () =>
    refuse(
      `[[rule]]\nid = "pool_capacity"\noffline_after = "2m"`,
      "alerts.toml: rule[0].offline_after: unknown key",
    ));
  await t.step("a bad duration", () =>
    refuse(
      `[[rule]]\nid = "host_offline"\noffline_after = "2 minutes"`,
      "alerts.toml: rule[0].offline_after: must be a duration like 30s, 10m, 2h or 7d",
    ));
  await t.step("a bad time zone", () =>
    refuse(
      `[[channel]]\nname = "a"\ntype = "slack"\nurl = "http://127.0.0.1/"\n[channel.quiet_hours]\nstart = "22:00"\nend = "07:00"\ntimezone = "Mars/Olympus"`,
      "alerts.toml: channel[0].quiet_hours.timezone: must be an IANA time zone such as Europe/Berlin",
    ));
  await t.step(
    "not TOML",
    () =>
      assert.throws(
        () => resolve(`[[rule`),
        /^AlertsConfigError: alerts.toml: not valid TOML/,
      ),
  );
});
