/**
 * A loopback HTTP receiver for channel tests: records every request and
 * answers with what the test's handler says. `down()` closes the port (so a
 * send gets "connection refused"), `up()` opens the same port again.
 */

export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string;
  at: number;
}

export interface Receiver extends AsyncDisposable {
  url: string;
  port: number;
  requests: Received[];
  down(): Promise<void>;
  up(): void;
  /** Resolves once `n` requests have arrived (or rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
}

export type Handler = (r: Received) => Response | Promise<Response>;

export function startReceiver(
  handler: Handler = () => new Response("ok"),
  port = 0,
): Receiver {
  const requests: Received[] = [];
  const waiters: (() => void)[] = [];
  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  const serve = (p: number) =>
    Deno.serve(
      { hostname: "127.0.0.1", port: p, onListen: () => {} },
      async (req) => {
        const url = new URL(req.url);
        const r: Received = {
          method: req.method,
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: await req.text(),
          at: Date.now(),
        };
        requests.push(r);
        for (const w of waiters.splice(0)) w();
        return await handler(r);
      },
    );
  server = serve(port);
  const actual = server.addr.port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    async down() {
      await server?.shutdown();
      server = null;
    },
    up() {
      if (server === null) server = serve(actual);
    },
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`expected ${n} requests, got ${requests.length}`);
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 100));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return requests;
    },
    async [Symbol.asyncDispose]() {
      await server?.shutdown();
    },
  };
}
