/**
 * ntfy (https://docs.ntfy.sh/publish/): POST the message text to the topic
 * URL, with `Title`, `Priority` (1–5), `Tags` (comma-separated, emoji short
 * codes) and `Click` headers; `Authorization: Bearer <token>` when set.
 */
import type { ChannelConfig } from "../alerts_config.ts";
import { clip, httpAnswer, type Sender } from "./channel.ts";

type Ntfy = Extract<ChannelConfig, { type: "ntfy" }>;

export const sendNtfy: Sender<Ntfy> = async (channel, message, ctx) => {
  const priority = message.resolved ? 3 : message.severity === "crit" ? 5 : 4;
  const tags = [
    message.resolved
      ? "white_check_mark"
      : message.severity === "crit"
      ? "rotating_light"
      : "warning",
    ...(channel.tags ?? []),
  ];
  const headers: Record<string, string> = {
    // header values must be ISO-8859-1; ntfy decodes RFC 2047 for the rest
    Title: encodeHeader(message.title),
    Priority: String(priority),
    Tags: tags.join(","),
    Click: message.notices[0]?.url ?? message.url,
    "content-type": "text/plain; charset=utf-8",
  };
  if (channel.token) headers.Authorization = `Bearer ${channel.token}`;
  const res = await fetch(channel.url, {
    method: "POST",
    headers,
    body: clip(message.text, 4000),
    signal: ctx.signal,
  });
  return await httpAnswer(res);
};

/** RFC 2047 encoded-word for non-Latin-1 titles, as ntfy documents. */
export function encodeHeader(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  return `=?UTF-8?B?${b64}?=`;
}
