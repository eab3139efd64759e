import assert from "node:assert/strict";
import { caseSteps } from "@proxmon/shared/case_steps";
import { usableIp, usableIps } from "./ip.ts";

Deno.test("usableIp() keeps routable IPv4 and IPv6 and drops loopback, link-local and unspecified", async (t) => {
  const cases: [string, string | null][] = [
    ["192.168.1.10", "192.168.1.10"],
    ["10.0.0.5/24", "10.0.0.5"],
    ["2001:db8::5/64", "2001:db8::5"],
    ["FD8C:4687:E88D:1BE3::293", "fd8c:4687:e88d:1be3::293"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    // IPv4-mapped loopback, link-local and unspecified, in both spellings.
    ["::ffff:127.0.0.1", null],
    ["::ffff:7f00:1", null],
    ["::FFFF:169.254.1.1", null],
    ["::ffff:0.0.0.0", null],
    ["1.2.3.4.5", null],
    ["", null],
    ["127.0.0.1", null],
    ["127.8.9.10", null],
    ["::1", null],
    ["0:0:0:0:0:0:0:1", null],
    ["169.254.10.20", null],
    ["fe80::be24:11ff:feaa:bbcc", null],
    ["fe80::1%eth0", null],
    ["febf::1", null],
    ["fec0::1", "fec0::1"],
    ["0.0.0.0", null],
    ["::", null],
    ["dhcp", null],
    ["300.1.1.1", null],
    ["1:2:3", null],
    ["1::2::3", null],
  ];
  await caseSteps(t, cases, usableIp);
});

Deno.test("usableIps() dedupes and keeps first-seen order", () => {
  assert.deepEqual(
    usableIps([
      "10.0.0.5/24",
      "127.0.0.1",
      "2001:db8::5",
      "10.0.0.5",
      "2001:DB8::5/64",
    ]),
    ["10.0.0.5", "2001:db8::5"],
  );
});
