/**
 * Slack incoming webhook (https://api.slack.com/messaging/webhooks): JSON
 * `{text}` (the fallback and notification text) plus a section block.
 * Slack answers `200 ok`.
 */
import type { ChannelConfig } from "../alerts_config.ts";
import { clip, postJson, type Sender } from "./channel.ts";

type Slack = Extract<ChannelConfig, { type: "slack" }>;

// mrkdwn treats these three as control characters
const escape = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

export const sendSlack: Sender<Slack> = (channel, message, ctx) =>
  postJson(channel.url, {
    text: clip(escape(message.title), 3000),
    blocks: [{
      type: "section",
      text: { type: "mrkdwn", text: clip(escape(message.text), 3000) },
    }],
  }, ctx);
