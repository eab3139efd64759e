/**
 * Telegram bot API (https://core.telegram.org/bots/api#sendmessage):
 * `POST {api_base}/bot<token>/sendMessage` with JSON `{chat_id, text}`
 * (≤ 4096 characters). The answer is `{"ok":true,"result":{…}}` or
 * `{"ok":false,"description":…}`.
 */
import type { ChannelConfig } from "../alerts_config.ts";
import { clip, type Sender } from "./channel.ts";

type Telegram = Extract<ChannelConfig, { type: "telegram" }>;

export const sendTelegram: Sender<Telegram> = async (channel, message, ctx) => {
  const base = channel.api_base.replace(/\/+$/, "");
  const res = await fetch(`${base}/bot${channel.bot_token}/sendMessage`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      chat_id: channel.chat_id,
      text: clip(`${message.title}\n\n${message.text}`, 4096),
      disable_web_page_preview: true,
    }),
    signal: ctx.signal,
  });
  const text = await res.text();
  let answer: { ok?: unknown; description?: unknown } = {};
  try {
    answer = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  const ok = res.ok && answer.ok === true;
  // never echo the URL: it carries the bot token
  return {
    ok,
    detail: `HTTP ${res.status}: ${
      ok ? "ok" : String(answer.description ?? text.slice(0, 200))
    }`,
  };
};
