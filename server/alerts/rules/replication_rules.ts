/** replication_failed (issue 17): an enabled pvesr job's last sync failed. */
import { replicationFailed } from "../../health/health_findings.ts";
import { conditionRule } from "./rule.ts";

export const replicationFailedRule = conditionRule({
  id: "replication_failed",
  description: "a storage replication job (pvesr) failed its last sync",
  interval: "medium",
  section: "replication",
  judge(r) {
    if (r.read_at_unix === null) return null;
    return replicationFailed(r).map((f) => ({
      kind: "replication",
      object: f.object,
      value: f.value,
      shown: `${f.value ?? 0} failures`,
      level: "crit",
      summary: f.text,
    }));
  },
});
