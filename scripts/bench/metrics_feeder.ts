/**
 * One agent connection for the `/metrics` round that stores a new fast
 * sample of its host every `everyMs` while the scrapes run, so a scrape
 * finds the fleet changed since the last one, as it always does in use
 * (a 100-host fleet stores 10 fast samples a second; a scrape comes every
 * 15 s or so).
 */
import type { FastPayload } from "@proxmon/shared";
import { type BenchHost, joinFrame } from "./load_plan.ts";

export interface Feeder {
  /** Stops sending and closes; resolves with what was sent and acked. */
  stop(): Promise<{ sent: number; acked: number }>;
}

/** Joins as `host` and starts sending; resolves once joined. */
export function startFeeder(
  wsUrl: string,
  host: BenchHost,
  data: FastPayload,
  everyMs: number,
): Promise<Feeder> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    let sent = 0, acked = 0, joined = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const base = Date.now();
    const send = () => {
      sent++;
      const sample = {
        ...data,
        host: { ...data.host, cpu_percent: sent % 100 },
      };
      ws.send(JSON.stringify({
        type: "sample",
        ref: sent,
        interval: "fast",
        collected_at: new Date(base + sent * 10).toISOString(),
        data: sample,
      }));
    };
    ws.onopen = () => ws.send(joinFrame(host));
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string);
      if (!joined) {
        if (msg.type !== "joined") {
          return reject(new Error(`${host.name}: join answered ${ev.data}`));
        }
        joined = true;
        timer = setInterval(send, everyMs);
        resolve({
          stop() {
            clearInterval(timer);
            return new Promise((done) => {
              ws.onclose = () => done({ sent, acked });
              ws.close();
            });
          },
        });
      } else if (msg.type === "ack") acked++;
    };
    ws.onerror = () => {
      if (!joined) reject(new Error(`${host.name}: could not join ${wsUrl}`));
    };
  });
}
