/**
 * A loopback HTTPS fake of the PVE API for agent tests: `GET
 * /api2/json/PATH` answers `{"data": …}` from a table of paths, after
 * checking the `PVEAPIToken` header as pveproxy does. Errors answer like
 * pveproxy: the status line carries the message.
 */
import type { TestTls } from "./test_tls.ts";

export interface FakePveApi {
  /** `https://127.0.0.1:PORT/api2/json` */
  url: string;
  /** Every path asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

export type ApiAnswer = unknown | { status: number; message: string };

export function isApiError(
  a: ApiAnswer,
): a is { status: number; message: string } {
  return typeof a === "object" && a !== null && "status" in a &&
    "message" in a;
}

/** An error as pveproxy sends it: the message in the status line and body. */
function error(status: number, message: string): Response {
  return Response.json({ data: null, message: `${message}\n` }, {
    status,
    statusText: message,
  });
}

export function startFakePveApi(opts: {
  tls: TestTls;
  token: string;
  /** path → data, or an error; a function answers per request */
  answer: (
    path: string,
    params: Record<string, string>,
  ) => ApiAnswer | undefined;
  port?: number;
}): FakePveApi {
  const requests: string[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    cert: opts.tls.cert,
    key: opts.tls.key,
    onListen: () => {},
  }, (req) => {
    const url = new URL(req.url);
    if (!url.pathname.startsWith("/api2/json/")) {
      return new Response(null, { status: 404, statusText: "Not Found" });
    }
    const path = url.pathname.slice("/api2/json".length);
    requests.push(path);
    if (req.headers.get("authorization") !== `PVEAPIToken=${opts.token}`) {
      return error(401, "authentication failure");
    }
    const answer = opts.answer(path, Object.fromEntries(url.searchParams));
    if (answer === undefined) {
      return error(501, `Method 'GET ${path}' not implemented`);
    }
    if (isApiError(answer)) {
      return error(answer.status, answer.message);
    }
    return Response.json({ data: answer });
  });
  return {
    url: `https://127.0.0.1:${server.addr.port}/api2/json`,
    requests,
    close: () => server.shutdown(),
  };
}
