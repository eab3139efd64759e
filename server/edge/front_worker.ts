/**
 * The TCP front's Worker entry (`worker_front.ts`): loaded only as a
 * Worker, never imported.
 */
import { type FrontPort, serveFront } from "./worker_front.ts";

serveFront(self as unknown as FrontPort);
