/** Every channel type's sender, by type. */
import type { ChannelConfig } from "../alerts_config.ts";
import type { Message } from "../delivery/message.ts";
import type { Answer, SendContext, Sender } from "./channel.ts";
import { sendDiscord } from "./discord.ts";
import { sendEmail } from "./email.ts";
import { sendGotify } from "./gotify.ts";
import { sendNtfy } from "./ntfy.ts";
import { sendSlack } from "./slack.ts";
import { sendTelegram } from "./telegram.ts";
import { sendWebhook } from "./webhook.ts";

const SENDERS = {
  webhook: sendWebhook,
  ntfy: sendNtfy,
  gotify: sendGotify,
  email: sendEmail,
  discord: sendDiscord,
  slack: sendSlack,
  telegram: sendTelegram,
} as const;

/**
 * Sends a message on a channel; a network error or timeout is an answer
 * too (not ok), never a throw.
 */
export async function sendMessage(
  channel: ChannelConfig,
  message: Message,
  timeoutMs: number,
): Promise<Answer> {
  const ctx: SendContext = { signal: AbortSignal.timeout(timeoutMs) };
  try {
    const send = SENDERS[channel.type] as Sender;
    return await send(channel, message, ctx);
  } catch (err) {
    const e = err as Error;
    return {
      ok: false,
      detail: e.name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : redact(describe(e), channel),
    };
  }
}

// "fetch failed" says little; its cause says "connection refused".
function describe(e: Error): string {
  const cause = e.cause instanceof Error ? e.cause.message : e.cause;
  return cause ? `${e.message}: ${String(cause)}` : e.message;
}

// Error messages may quote URLs; keep tokens out of logs and the database.
function redact(text: string, channel: ChannelConfig): string {
  let out = text;
  for (const key of ["bot_token", "token", "password", "secret"] as const) {
    const value = (channel as Record<string, unknown>)[key];
    if (typeof value === "string" && value.length > 0) {
      out = out.replaceAll(value, "***");
    }
  }
  return out.slice(0, 500);
}

export type { Answer } from "./channel.ts";
