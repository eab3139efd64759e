/**
 * A channel sends one message and reports the receiver's answer. Each type
 * is one file here speaking that service's documented request format; the
 * queue (../delivery/delivery_queue.ts) handles retries, grouping and caps.
 */
import type { ChannelConfig } from "../alerts_config.ts";
import type { Message } from "../delivery/message.ts";

export interface Answer {
  ok: boolean;
  /** what the receiver said: "HTTP 200: {...}", "250 Ok queued", or the error */
  detail: string;
}

export interface SendContext {
  signal: AbortSignal;
}

export type Sender<C extends ChannelConfig = ChannelConfig> = (
  channel: C,
  message: Message,
  ctx: SendContext,
) => Promise<Answer>;

/** The answer of an HTTP receiver: 2xx is ok; the body is kept short. */
export async function httpAnswer(res: Response): Promise<Answer> {
  const body = (await res.text()).replace(/\s+/g, " ").trim().slice(0, 300);
  return {
    ok: res.ok,
    detail: `HTTP ${res.status}${body ? `: ${body}` : ""}`,
  };
}

/** POSTs JSON and returns the receiver's answer. */
export async function postJson(
  url: string,
  body: unknown,
  ctx: SendContext,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: ctx.signal,
  });
  return await httpAnswer(res);
}

/** Cuts text to a service's limit, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
