import { withTimeout } from "@proxmon/shared/timeout";
/**
 * A plain WebSocket client that speaks the agent protocol by hand, so tests
 * can send anything, including what a real agent never would.
 */
import { PROTOCOL_VERSION } from "@proxmon/shared";

export type Reply = Record<string, unknown>;

export interface Closed {
  code: number;
  reason: string;
}

export class TestAgent {
  #inbox: Reply[] = [];
  #waiters: ((m: Reply) => void)[] = [];
  /** resolves when the socket is closed, by either side */
  readonly closed: Promise<Closed>;

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const message = JSON.parse(String(e.data));
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#inbox.push(message);
    };
    this.closed = new Promise((resolve) => {
      ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
    });
  }

  /** Opens a socket and waits until it is open. */
  static async connect(url: string): Promise<TestAgent> {
    const ws = new WebSocket(url);
    const agent = new TestAgent(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) =>
        reject(
          new Error(`cannot connect to ${url}: ${(e as ErrorEvent).message}`),
        );
    });
    return agent;
  }

  /** Sends an object as JSON, or a string as it is. */
  send(message: Reply | string): void {
    this.ws.send(
      typeof message === "string" ? message : JSON.stringify(message),
    );
  }

  /**
   * Sends fast samples of `data` with refs `fromRef` to `fromRef + count - 1`,
   * ref r collected at `baseMs + r` seconds.
   */
  sendFast(data: unknown, baseMs: number, fromRef: number, count: number) {
    for (let ref = fromRef; ref < fromRef + count; ref++) {
      this.send({
        type: "sample",
        ref,
        interval: "fast",
        collected_at: new Date(baseMs + ref * 1000).toISOString(),
        data,
      });
    }
  }

  /** The next message from the server; fails after `timeoutMs`. */
  next(timeoutMs = 3000): Promise<Reply> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(onMessage), 1);
        reject(new Error(`no message from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: Reply) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push(onMessage);
    });
  }

  /** The next `count` messages. */
  async take(count: number): Promise<Reply[]> {
    const out: Reply[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next());
    return out;
  }

  /** Every message not yet taken, once the socket has closed. */
  async rest(timeoutMs = 5000): Promise<Reply[]> {
    await this.waitClosed(timeoutMs);
    return this.#inbox.splice(0);
  }

  /** Sends a join and returns the reply. */
  join(host: string, token: string, extra: Reply = {}): Promise<Reply> {
    this.send({
      type: "join",
      host,
      token,
      agent_version: "0.1.0",
      protocol: PROTOCOL_VERSION,
      ...extra,
    });
    return this.next();
  }

  /** The close, or a failure after `timeoutMs`. */
  waitClosed(timeoutMs = 3000): Promise<Closed> {
    return withTimeout(this.closed, timeoutMs, () => {
      throw new Error(`socket still open after ${timeoutMs} ms`);
    });
  }

  /** Closes from the client side and waits for the close to finish. */
  async close(): Promise<Closed> {
    if (this.ws.readyState < WebSocket.CLOSING) this.ws.close();
    return await this.closed;
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }
}
