/**
 * The remote_write pump's Worker entry (`worker_pump.ts`): loaded only as a
 * Worker, never imported.
 */
import { type PumpPort, servePump } from "./worker_pump.ts";

servePump(self as unknown as PumpPort);
