/**
 * Generic webhook: a JSON POST. The top-level fields describe the first
 * (most important) notice; `alerts` lists every notice the message groups.
 * With a `secret`, `X-Proxmon-Signature: sha256=<hex>` is the HMAC-SHA256
 * of the exact body bytes, so receivers can verify it came from proxmon.
 */
import { createHmac } from "node:crypto";
import type { ChannelConfig } from "../alerts_config.ts";
import type { Message } from "../delivery/message.ts";
import { httpAnswer, type Sender } from "./channel.ts";

type Webhook = Extract<ChannelConfig, { type: "webhook" }>;

export const SIGNATURE_HEADER = "X-Proxmon-Signature";

/** The webhook's JSON body for a message. */
export function webhookBody(message: Message, nowIso: string) {
  const first = message.notices[0];
  const head = first === undefined
    ? {
      rule: "suppressed_digest",
      state: "firing",
      severity: "warn",
      host: null,
      object: null,
      summary: `${message.suppressed} more notifications suppressed`,
      value: String(message.suppressed),
      started_at: nowIso,
    }
    : {
      rule: first.rule,
      state: first.state,
      severity: first.severity,
      host: first.host,
      object: first.object,
      summary: first.summary,
      value: first.value,
      started_at: first.started_at,
      resolved_at: first.resolved_at,
      kind: first.kind,
      url: first.url,
    };
  return {
    ...head,
    title: message.title,
    text: message.text,
    alerts: message.notices,
    suppressed: message.suppressed,
    dashboard_url: message.url,
  };
}

/** Hex HMAC-SHA256 of the body, as the signature header carries it. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export const sendWebhook: Sender<Webhook> = async (channel, message, ctx) => {
  const body = JSON.stringify(webhookBody(message, new Date().toISOString()));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "proxmon",
    ...channel.headers,
  };
  if (channel.secret) {
    headers[SIGNATURE_HEADER] = signBody(channel.secret, body);
  }
  const res = await fetch(channel.url, {
    method: "POST",
    headers,
    body,
    signal: ctx.signal,
  });
  return await httpAnswer(res);
};
