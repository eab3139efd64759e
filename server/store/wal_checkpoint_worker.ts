/**
 * The WAL checkpointer's Worker entry (`wal_checkpointer.ts`): loaded only
 * as a Worker, never imported.
 */
import { type CheckpointPort, serveCheckpoints } from "./wal_checkpointer.ts";

serveCheckpoints(self as unknown as CheckpointPort);
