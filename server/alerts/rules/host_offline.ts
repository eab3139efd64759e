/** host_offline: no sample from a host for `offline_after`. */
import { formatDuration } from "../duration.ts";
import { defineRule, type Observation } from "./rule.ts";

const seen: Observation = {
  kind: "host",
  object: null,
  value: 0,
  shown: "online",
  level: null,
  summary: "host is sending samples",
};

export const hostOffline = defineRule({
  id: "host_offline",
  description: "no sample from the host for offline_after",
  intervals: ["fast", "medium", "slow"],
  compare: "condition",
  defaults: {
    params: {
      offline_after: {
        kind: "duration",
        default: 120_000,
        description: "silence after which the host counts as offline",
      },
    },
  },
  // Any stored sample proves the host is there.
  evaluate: () => [seen],
  tick(nowMs, hosts, settings) {
    return hosts.map(({ host, lastSeenMs }) => {
      const after = settings({ host, kind: "host", object: null })
        .params.offline_after;
      const silentMs = nowMs - lastSeenMs;
      const offline = silentMs > after;
      return {
        host,
        observations: [{
          kind: "host",
          object: null,
          value: silentMs,
          shown: offline
            ? `no sample for ${formatDuration(silentMs)}`
            : "online",
          level: offline ? "crit" : null,
          summary: `host ${host} sent no sample for ${
            formatDuration(silentMs)
          }`,
        }],
      };
    });
  },
});
