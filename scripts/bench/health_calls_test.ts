import assert from "node:assert/strict";
import { isHealthCall } from "./health_calls.ts";

Deno.test("isHealthCall() counts the issue-17 commands and nothing else", () => {
  for (
    const line of [
      "pvesh get /cluster/backup --output-format json",
      "pvesh get /cluster/backup-info/not-backed-up --output-format json",
      "pvesh get /nodes/pve-bench/tasks --typefilter vzdump --limit 200 --output-format json",
      "pvesh get /nodes/pve-bench/tasks/UPID%3Apve-bench%3A1/log --limit 100000 --output-format json",
      "pvesh get /nodes/pve-bench/storage --content backup --output-format json",
      "pvesh get /nodes/pve-bench/storage/pbs/content --content backup --output-format json",
      "pvesh get /nodes/pve-bench/replication --output-format json",
      "smartctl --scan-open -j",
      "sensors -j",
    ]
  ) assert.ok(isHealthCall(line), line);
  for (
    const line of [
      "pvesh get /nodes/pve-bench/storage --output-format json",
      "pvesh get /cluster/resources --output-format json",
      "pvesh get /nodes/pve-bench/qemu/100/config --output-format json",
      "zpool status -j --json-flat-vdevs --json-int",
    ]
  ) assert.ok(!isHealthCall(line), line);
});
