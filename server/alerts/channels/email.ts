/**
 * Email over SMTP with nodemailer: `security = "starttls"` (port 587 by
 * default; the upgrade is required), `"tls"` (implicit TLS, port 465) or
 * `"none"` (port 25, loopback relays only), with optional auth.
 */
// @ts-types="@types/nodemailer"
import nodemailer from "nodemailer";
import type { ChannelConfig } from "../alerts_config.ts";
import type { Sender } from "./channel.ts";

type Email = Extract<ChannelConfig, { type: "email" }>;

const DEFAULT_PORT = { starttls: 587, tls: 465, none: 25 } as const;

/** nodemailer's transport options for a channel. */
export function transportOptions(channel: Email) {
  return {
    host: channel.host,
    port: channel.port ?? DEFAULT_PORT[channel.security],
    secure: channel.security === "tls",
    requireTLS: channel.security === "starttls",
    ignoreTLS: channel.security === "none",
    auth: channel.username === undefined
      ? undefined
      : { user: channel.username, pass: channel.password ?? "" },
    tls: channel.ca_file === undefined
      ? undefined
      : { ca: Deno.readTextFileSync(channel.ca_file) },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
  };
}

export const sendEmail: Sender<Email> = async (channel, message, ctx) => {
  const transport = nodemailer.createTransport(transportOptions(channel));
  const abort = () => transport.close();
  ctx.signal.addEventListener("abort", abort, { once: true });
  try {
    const info = await transport.sendMail({
      from: channel.from,
      to: channel.to,
      subject: message.title,
      text: message.text,
      headers: {
        "X-Proxmon-Severity": message.resolved ? "resolved" : message.severity,
      },
    });
    return {
      ok: info.rejected.length === 0,
      detail: `${info.response}${
        info.rejected.length ? `; rejected: ${info.rejected.join(", ")}` : ""
      }`,
    };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  } finally {
    ctx.signal.removeEventListener("abort", abort);
    transport.close();
  }
};
