/**
 * A TCP port on 127.0.0.1 that was free a moment ago, found by binding port
 * 0; for tests and benchmarks that start a real server on it.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
