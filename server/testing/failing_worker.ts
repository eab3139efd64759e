/**
 * A TCP front Worker (worker_front.ts) that fails, for worker_front_test:
 * `?at=load` fails as it loads, otherwise it fails a moment after it is
 * told to start.
 */
import { type FrontPort, serveFront } from "../edge/worker_front.ts";

const at = new URL(import.meta.url).searchParams.get("at");
if (at === "load") throw new Error("this front fails at load");
const port = self as unknown as FrontPort;
serveFront(port);
const serve = port.onmessage;
port.onmessage = (ev) => {
  serve?.(ev);
  if (ev.data.type === "start") {
    setTimeout(() => {
      throw new Error("this front fails after it starts");
    }, 300);
  }
};
