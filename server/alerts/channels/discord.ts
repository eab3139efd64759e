/**
 * Discord incoming webhook (https://discord.com/developers/docs/resources/webhook#execute-webhook):
 * JSON with `content` (≤ 2000 characters) and `embeds` (title ≤ 256,
 * description ≤ 4096). Discord answers 204 No Content.
 */
import type { ChannelConfig } from "../alerts_config.ts";
import { clip, postJson, type Sender } from "./channel.ts";

type Discord = Extract<ChannelConfig, { type: "discord" }>;

const COLOURS = { crit: 0xd7263d, warn: 0xf2a541, resolved: 0x2e933c };

export const sendDiscord: Sender<Discord> = (channel, message, ctx) =>
  postJson(channel.url, {
    username: "proxmon",
    content: clip(message.title, 2000),
    embeds: [{
      title: clip(message.title, 256),
      description: clip(message.text, 4096),
      url: message.url.startsWith("http") ? message.url : undefined,
      color: message.resolved ? COLOURS.resolved : COLOURS[message.severity],
    }],
    allowed_mentions: { parse: [] },
  }, ctx);
