/**
 * Gotify (https://gotify.net/docs/pushmsg): `POST /message?token=<app token>`
 * with JSON `{title, message, priority}`; extras mark the text as plain and
 * give a click URL.
 */
import type { ChannelConfig } from "../alerts_config.ts";
import { postJson, type Sender } from "./channel.ts";

type Gotify = Extract<ChannelConfig, { type: "gotify" }>;

export const sendGotify: Sender<Gotify> = (channel, message, ctx) => {
  const url = new URL(
    "message",
    channel.url.endsWith("/") ? channel.url : `${channel.url}/`,
  );
  url.searchParams.set("token", channel.token);
  return postJson(url.toString(), {
    title: message.title,
    message: message.text,
    priority: message.resolved ? 4 : message.severity === "crit" ? 8 : 6,
    extras: {
      "client::display": { contentType: "text/plain" },
      "client::notification": { click: { url: message.url } },
    },
  }, ctx);
};
