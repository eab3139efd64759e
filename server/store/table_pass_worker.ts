/**
 * The Worker entry of maintenance's table passes (`worker_table_pass.ts`):
 * loaded only as a Worker, never imported.
 */
import { serveTablePass, type TablePassPort } from "./worker_table_pass.ts";

serveTablePass(self as unknown as TablePassPort);
