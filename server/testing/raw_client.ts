/**
 * Plain TCP clients for edge tests: connections that send nothing or half a
 * request, from a chosen loopback address (127.0.0.2, …), so one test can
 * play many client addresses. `node:net` because `Deno.connect` cannot bind
 * the local address.
 */
import net from "node:net";

export interface RawConn {
  socket: net.Socket;
  /** resolves when the server closes (or resets) the connection */
  closed: Promise<void>;
  /** everything the server sent so far */
  received(): string;
}

/** Connects from `localAddress` to 127.0.0.1:`port`. */
export function connectRaw(
  port: number,
  localAddress = "127.0.0.1",
): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    let text = "";
    const closed = new Promise<void>((done) => {
      socket.on("close", () => done());
    });
    socket.on("data", (d) => text += d.toString());
    socket.once("error", (err) => reject(err));
    socket.once("connect", () => {
      socket.on("error", () => {}); // a reset after connect is a close
      resolve({ socket, closed, received: () => text });
    });
  });
}

/** Sends one request and returns the whole response (server closes). */
export async function rawRequest(
  port: number,
  localAddress: string,
  request: string,
): Promise<string> {
  const conn = await connectRaw(port, localAddress);
  conn.socket.write(request);
  await conn.closed;
  return conn.received();
}

/** Resolves true if `p` settles within `ms`. */
export async function settlesWithin(
  p: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: number | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = Number(setTimeout(() => r(false), ms));
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
