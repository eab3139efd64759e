/**
 * A TCP front Worker that fails: at load with `?at=load`, otherwise a
 * moment after it listens. For worker_front_test.ts.
 */
import { type FrontPort, serveFront } from "../edge/worker_front.ts";

if (new URL(import.meta.url).searchParams.get("at") === "load") {
  throw new Error("this front fails at load");
}
const port = self as unknown as FrontPort;
serveFront(port);
const listened = port.onmessage;
port.onmessage = (ev) => {
  listened?.(ev);
  if (ev.data.type === "start") {
    setTimeout(() => {
      throw new Error("this front fails after it listens");
    }, 300);
  }
};
