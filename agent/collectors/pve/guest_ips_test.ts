import assert from "node:assert/strict";
import { caseSteps } from "@proxmon/shared/case_steps";
import { readFixture } from "../../testing/fixtures.ts";
import {
  parseGuestAgentInterfaces,
  parseLxcConfigIps,
  parseLxcInterfaces,
  qemuAgentEnabled,
} from "./guest_ips.ts";

const json = (name: string) => JSON.parse(readFixture(name));

Deno.test("parseGuestAgentInterfaces() keeps IPv4 and IPv6, without loopback and link-local", () => {
  assert.deepEqual(
    parseGuestAgentInterfaces(
      readFixture("pvesh/qemu_100_agent_interfaces.json"),
    ),
    {
      ok: true,
      ips: ["192.168.1.10", "2001:db8:10::10"],
    },
  );
});

Deno.test("parseGuestAgentInterfaces() on real guest agent replies", async (t) => {
  await t.step(
    "PVE 6.2 recording: lo dropped, eth0 v4 + ULA v6, docker0 kept",
    () => {
      assert.deepEqual(
        parseGuestAgentInterfaces(
          readFixture(
            "pvesh/real/transcribed_ansible_pve6.2__qemu_101_agent_network-get-interfaces.json",
          ),
        ),
        {
          ok: true,
          ips: [
            "10.1.2.3",
            "fd8c:4687:e88d:1be3:5b70:7b88:c79c:293",
            "10.10.2.3",
          ],
        },
      );
    },
  );
  await t.step("raw API reply with the data envelope and no statistics", () => {
    assert.deepEqual(
      parseGuestAgentInterfaces(
        readFixture(
          "pvesh/real/api_qemu_agent_network-get-interfaces__telmate_pr39_2019_no_statistics_data_envelope.json",
        ),
      ),
      { ok: true, ips: ["192.168.0.123"] },
    );
  });
});

Deno.test("parseGuestAgentInterfaces() reports an agent error object instead of a list", () => {
  assert.deepEqual(
    parseGuestAgentInterfaces(
      readFixture("pvesh/qemu_agent_error_unsupported.json"),
    ),
    {
      ok: false,
      message:
        "guest agent error: Unsupported: this feature or command is not currently supported",
    },
  );
});

Deno.test("parseGuestAgentInterfaces() skips interfaces without ip-addresses or with only a name", () => {
  assert.deepEqual(
    parseGuestAgentInterfaces(
      readFixture("pvesh/qemu_agent_interfaces_without_addresses.json"),
    ),
    { ok: true, ips: ["172.16.0.143"] },
  );
});

Deno.test("parseGuestAgentInterfaces() reports truncated or odd JSON", () => {
  const text = readFixture("pvesh/qemu_100_agent_interfaces.json");
  assert.equal(parseGuestAgentInterfaces(text.slice(0, 50)).ok, false);
  assert.equal(parseGuestAgentInterfaces("[]").ok, false);
});

Deno.test("qemuAgentEnabled() reads the agent property in each of its forms", async (t) => {
  const cases: [unknown, boolean][] = [
    [1, true],
    [0, false],
    ["1", true],
    ["0", false],
    ["1,fstrim_cloned_disks=1", true],
    ["1,type=virtio", true],
    ["enabled=1,type=virtio", true],
    ["enabled=0,type=virtio", false],
    ["type=virtio", false],
    [undefined, false],
  ];
  await caseSteps(
    t,
    cases,
    (agent) => qemuAgentEnabled(agent === undefined ? {} : { agent }),
    JSON.stringify,
  );
  await t.step("real PVE 6.2 configs", () => {
    assert.equal(
      qemuAgentEnabled(
        json(
          "pvesh/real/transcribed_ansible_pve6.2__qemu_101_config_agent_cloudinit.json",
        ),
      ),
      true,
    );
    assert.equal(
      qemuAgentEnabled(
        json(
          "pvesh/real/transcribed_ansible_pve6.2__qemu_102_config_windows.json",
        ),
      ),
      true,
    );
  });
});

Deno.test("parseLxcConfigIps() reads ip= and ip6= of every netN and skips dhcp, auto and manual", () => {
  assert.deepEqual(parseLxcConfigIps(json("pvesh/lxc_200_config.json")), [
    "10.0.0.5",
    "2001:db8:200::5",
  ]);
  assert.deepEqual(parseLxcConfigIps(json("pvesh/lxc_201_config.json")), [
    "192.168.1.53",
  ]);
  assert.deepEqual(parseLxcConfigIps(json("pvesh/lxc_202_config.json")), []);
  assert.deepEqual(
    parseLxcConfigIps(
      json("pvesh/real/transcribed_ansible_pve6.2__lxc_100_config.json"),
    ),
    ["10.1.1.3"],
  );
  assert.deepEqual(
    parseLxcConfigIps({
      net0: "name=eth0,ip=manual",
      net1: 5,
      netx: "ip=1.2.3.4",
    }),
    [],
  );
});

Deno.test("parseLxcInterfaces() reads inet/inet6 (address/prefix) and ip-addresses lists", () => {
  assert.deepEqual(
    parseLxcInterfaces(readFixture("pvesh/lxc_200_interfaces.json")),
    {
      ok: true,
      ips: ["10.0.0.5", "2001:db8:200::5", "172.17.0.1"],
    },
  );
  assert.deepEqual(
    parseLxcInterfaces(
      '[{"name":"eth0","hwaddr":"x","ip-addresses":[{"ip-address":"10.9.9.9","ip-address-type":"ipv4","prefix":24}]}]',
    ),
    { ok: true, ips: ["10.9.9.9"] },
  );
  assert.equal(parseLxcInterfaces('{"name":"eth0"}').ok, false);
});
