/**
 * A process that compacts a database and builds its rollups, for the test
 * that kills it midway: `deno run -A compact_child.ts URL NOW_MS`. Prints
 * "started" once the database is open, "done" at the end.
 */
import { openDatabase } from "../store/client.ts";
import { buildRollups, compactHead } from "../store/compaction.ts";

const [url, now] = Deno.args;
const database = await openDatabase(url);
await Deno.stdout.write(new TextEncoder().encode("started\n"));
// Small pauses spread the work out, so a kill lands between and inside commits.
await compactHead(database, Number(now), { pauseMs: 2 });
await buildRollups(database, Number(now), { pauseMs: 2 });
await Deno.stdout.write(new TextEncoder().encode("done\n"));
database.close();
