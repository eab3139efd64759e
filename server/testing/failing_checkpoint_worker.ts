/**
 * A WAL checkpoint Worker that fails: at load with `?at=load`, otherwise a
 * moment after it starts. For wal_checkpointer_test.ts.
 */
import {
  type CheckpointPort,
  serveCheckpoints,
} from "../store/wal_checkpointer.ts";

if (new URL(import.meta.url).searchParams.get("at") === "load") {
  throw new Error("this checkpointer fails at load");
}
const port = self as unknown as CheckpointPort;
serveCheckpoints(port);
const serve = port.onmessage;
port.onmessage = (ev) => {
  serve?.(ev);
  if (ev.data.type === "start") {
    setTimeout(() => {
      throw new Error("this checkpointer fails after it starts");
    }, 300);
  }
};
