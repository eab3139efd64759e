/**
 * A Worker that fails, for the tests of the Workers that must survive
 * their own failure: `?serve=front` (worker_front.ts) or `?serve=checkpoint`
 * (wal_checkpointer.ts); `&at=load` fails as it loads, otherwise it fails a
 * moment after it is told to start.
 */
import { type FrontPort, serveFront } from "../edge/worker_front.ts";
import {
  type CheckpointPort,
  serveCheckpoints,
} from "../store/wal_checkpointer.ts";

const params = new URL(import.meta.url).searchParams;
const what = params.get("serve");
if (params.get("at") === "load") throw new Error(`this ${what} fails at load`);
const port = self as unknown as FrontPort & CheckpointPort;
if (what === "front") serveFront(port);
else serveCheckpoints(port);
const serve = port.onmessage as ((ev: MessageEvent) => void) | null;
port.onmessage = (ev: MessageEvent) => {
  serve?.(ev);
  if (ev.data.type === "start") {
    setTimeout(() => {
      throw new Error(`this ${what} fails after it starts`);
    }, 300);
  }
};
