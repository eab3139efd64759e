/**
 * One long-lived process that answers the simulated node's cheap tools
 * (`zpool`, `zfs`, `smartctl`, `sensors`), so that a call costs the agent's
 * process tree about what the real tool costs: a few ms, not a Deno
 * start-up.
 *
 * A real `zpool status` is a small C program that asks the kernel through
 * a few ioctls: a few ms of CPU. A fake one that is `deno run fake_tool.ts`
 * costs 60–100 ms per call (the runtime's start-up), which made the fake
 * ZFS tools most of the agent's measured process-tree CPU (BENCHMARKS.md,
 * issue 11). With this server running, each of those tools is a bash
 * script (bin/*, through tool_client.bash) that sends its arguments over
 * one loopback TCP connection and copies the answer to its stdout and
 * stderr: a bash start and a `cat`. The answer is computed here, outside
 * the agent's process tree, as the real tool's work happens in the kernel.
 *
 * `pvesh`, `pveversion` and `apt` do not come here: their real versions
 * are Perl and apt, which cost hundreds of ms per call, and their fakes
 * keep paying that (fake_tool.ts burns `pvesh_cpu_ms` for pvesh).
 *
 * Protocol (one request per connection): the client writes NUL-terminated
 * fields `profile path`, `N`, then N fields (the tool and its arguments).
 * The server answers `CODE STDERR_BYTES STDOUT_BYTES\n`, the stderr bytes,
 * the stdout bytes, and closes.
 */
import { answer } from "./answer.ts";
import { buildNodeModel, type NodeModel } from "./node_model.ts";
import { loadNodeProfile } from "./node_profile.ts";

/** The environment variable naming the server's port, for the wrappers. */
export const TOOL_PORT_ENV = "PROXMON_FAKE_TOOL_PORT";

/** The tools whose wrappers ask this server when it runs. */
export const SERVED_TOOLS = ["zpool", "zfs", "smartctl", "sensors"] as const;

export interface ToolServer extends AsyncDisposable {
  port: number;
  /** `{ PROXMON_FAKE_TOOL_PORT: port }`, for the tools' environment */
  env: Record<string, string>;
  /** Requests answered so far. */
  readonly answered: number;
  /** Stops listening and waits for the calls in flight; also `await using`. */
  close(): Promise<void>;
}

interface Loaded {
  stamp: string;
  model: NodeModel;
}

/**
 * The model of a profile, rebuilt when its file changes (tests swap a
 * profile atomically to change the node under a running agent, as the
 * per-call fake tools read it on every call).
 */
function profileModels() {
  const cache = new Map<string, Loaded>();
  return async (path: string): Promise<NodeModel> => {
    const st = await Deno.stat(path);
    const stamp = `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
    const hit = cache.get(path);
    if (hit && hit.stamp === stamp) return hit.model;
    const model = buildNodeModel(await loadNodeProfile(path));
    cache.set(path, { stamp, model });
    return model;
  };
}

/** Splits NUL-terminated fields; undefined until the request is complete. */
export function parseRequest(
  bytes: Uint8Array,
): { profile: string; argv: string[] } | undefined {
  const fields: string[] = [];
  const text = new TextDecoder();
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    fields.push(text.decode(bytes.subarray(start, i)));
    start = i + 1;
    if (fields.length >= 2) {
      const n = Number(fields[1]);
      if (!Number.isInteger(n) || n < 1) {
        throw new Error(`bad field count ${JSON.stringify(fields[1])}`);
      }
      if (fields.length === 2 + n) {
        return { profile: fields[0], argv: fields.slice(2) };
      }
    }
  }
  return undefined;
}

async function readRequest(conn: Deno.Conn) {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("connection closed mid-request");
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
    const request = parseRequest(buf);
    if (request) return request;
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array) {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Starts the server on 127.0.0.1 (a free port). */
export function startToolServer(): ToolServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const modelOf = profileModels();
  const encoder = new TextEncoder();
  const inFlight = new Set<Promise<void>>();
  let answered = 0;
  const serve = async (conn: Deno.Conn) => {
    try {
      let result;
      try {
        const { profile, argv } = await readRequest(conn);
        const [tool, ...args] = argv;
        result = (SERVED_TOOLS as readonly string[]).includes(tool)
          ? answer(await modelOf(profile), tool, args, Date.now())
          : {
            stdout: "",
            stderr: `fake node: ${tool} is not served\n`,
            code: 127,
          };
      } catch (e) {
        result = {
          stdout: "",
          stderr: `fake node tool server: ${
            e instanceof Error ? e.message : String(e)
          }\n`,
          code: 70,
        };
      }
      const err = encoder.encode(result.stderr);
      const out = encoder.encode(result.stdout);
      await writeAll(
        conn,
        encoder.encode(`${result.code} ${err.length} ${out.length}\n`),
      );
      await writeAll(conn, err);
      await writeAll(conn, out);
      answered++;
    } catch {
      // the client went away (killed on a timeout): nothing to answer
    } finally {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      const p = serve(conn);
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  const close = async () => {
    listener.close();
    await accepting;
    await Promise.all(inFlight);
  };
  return {
    port,
    env: { [TOOL_PORT_ENV]: String(port) },
    get answered() {
      return answered;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
