/**
 * Each channel against a loopback server that implements the service's
 * documented request format and answers as the service does.
 */
import * as assert from "node:assert/strict";
import { resolveAlertsConfig } from "../alerts_config.ts";
import { buildMessage } from "../delivery/message.ts";
import { POOL_DEGRADED_NOTICE } from "../testing/notice.ts";
import { BUILTIN_RULES } from "../rules/mod.ts";
import { startReceiver } from "../testing/receiver.ts";
import { sendMessage } from "./mod.ts";
import { signBody } from "./webhook.ts";

const notice = POOL_DEGRADED_NOTICE;
const message = buildMessage([notice], 0, "https://monitor.example");

const channel = (toml: string) =>
  resolveAlertsConfig(`[[channel]]\n${toml}`, "alerts.toml", BUILTIN_RULES)
    .channels[0];

Deno.test("webhook: JSON body with the documented fields, signed when a secret is set", async () => {
  await using rx = startReceiver();
  const answer = await sendMessage(
    channel(
      `name = "w"\ntype = "webhook"\nurl = "${rx.url}/hook"\nsecret = "k"\nheaders = { "X-Team" = "infra" }`,
    ),
    message,
    5000,
  );
  assert.deepEqual(answer, { ok: true, detail: "HTTP 200: ok" });
  const r = rx.requests[0];
  assert.equal(r.path, "/hook");
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.equal(r.headers.get("x-team"), "infra");
  assert.equal(r.headers.get("x-proxmon-signature"), signBody("k", r.body));
  const body = JSON.parse(r.body);
  for (
    const key of [
      "rule",
      "state",
      "severity",
      "host",
      "object",
      "summary",
      "value",
      "started_at",
    ]
  ) {
    assert.ok(key in body, key);
  }
  assert.equal(body.started_at, notice.started_at);
  assert.ok(
    message.text.includes("value: DEGRADED; since 2026-06-01T12:00:10.000Z"),
  );
  assert.ok(message.text.includes("https://monitor.example/hosts/pve-lab"));
});

Deno.test("ntfy: the text as body, Title/Priority/Tags/Click headers, bearer token", async () => {
  await using rx = startReceiver((r) =>
    r.headers.get("authorization") === "Bearer tk_abc"
      ? Response.json({
        id: "xE73Iyuabi",
        time: 1673542291,
        event: "message",
        topic: "alerts",
      })
      : Response.json({ code: 40101, http: 401, error: "unauthorized" }, {
        status: 401,
      })
  );
  const answer = await sendMessage(
    channel(
      `name = "n"\ntype = "ntfy"\nurl = "${rx.url}/alerts"\ntoken = "tk_abc"\ntags = ["proxmox"]`,
    ),
    message,
    5000,
  );
  assert.equal(answer.ok, true);
  assert.match(answer.detail, /"event":"message"/);
  const r = rx.requests[0];
  assert.equal(r.method, "POST");
  assert.equal(r.path, "/alerts");
  assert.equal(r.headers.get("priority"), "5");
  assert.equal(r.headers.get("tags"), "rotating_light,proxmox");
  assert.equal(r.headers.get("click"), notice.url);
  assert.equal(r.headers.get("title"), message.title);
  assert.equal(r.body, message.text);
  // a wrong token is the receiver's answer, not a crash
  const bad = await sendMessage(
    channel(
      `name = "n"\ntype = "ntfy"\nurl = "${rx.url}/alerts"\ntoken = "wrong"`,
    ),
    message,
    5000,
  );
  assert.equal(bad.ok, false);
  assert.match(bad.detail, /^HTTP 401/);
});

Deno.test("gotify: POST /message?token= with title, message and a numeric priority", async () => {
  await using rx = startReceiver((r) => {
    if (r.path !== "/message" || r.query.get("token") !== "AppTok") {
      return Response.json({
        error: "Unauthorized",
        errorCode: 401,
        errorDescription:
          "you need to provide a valid access token or user credentials to access this api",
      }, { status: 401 });
    }
    const b = JSON.parse(r.body);
    if (typeof b.message !== "string" || typeof b.priority !== "number") {
      return Response.json({ error: "Bad Request", errorCode: 400 }, {
        status: 400,
      });
    }
    return Response.json({
      id: 25,
      appid: 5,
      message: b.message,
      title: b.title,
      priority: b.priority,
      date: "2026-06-01T12:00:11Z",
    });
  });
  const answer = await sendMessage(
    channel(`name = "g"\ntype = "gotify"\nurl = "${rx.url}"\ntoken = "AppTok"`),
    message,
    5000,
  );
  assert.equal(answer.ok, true, answer.detail);
  const b = JSON.parse(rx.requests[0].body);
  assert.equal(b.title, message.title);
  assert.equal(b.message, message.text);
  assert.equal(b.priority, 8);
  const bad = await sendMessage(
    channel(`name = "g"\ntype = "gotify"\nurl = "${rx.url}"\ntoken = "nope"`),
    message,
    5000,
  );
  assert.equal(bad.ok, false);
});

Deno.test("discord: content and an embed within Discord's limits; 204 is ok", async () => {
  await using rx = startReceiver((r) => {
    const b = JSON.parse(r.body);
    const e = b.embeds?.[0];
    const fine = typeof b.content === "string" && b.content.length <= 2000 &&
      e.title.length <= 256 && e.description.length <= 4096;
    return fine
      ? new Response(null, { status: 204 })
      : Response.json({ message: "Invalid Form Body", code: 50035 }, {
        status: 400,
      });
  });
  const long = buildMessage(
    Array.from({ length: 40 }, () => notice),
    0,
    "https://monitor.example",
  );
  const answer = await sendMessage(
    channel(
      `name = "d"\ntype = "discord"\nurl = "${rx.url}/api/webhooks/1/abc"`,
    ),
    long,
    5000,
  );
  assert.deepEqual(answer, { ok: true, detail: "HTTP 204" });
  assert.equal(JSON.parse(rx.requests[0].body).embeds[0].color, 0xd7263d);
});

Deno.test("slack: text plus a mrkdwn section; Slack answers 'ok' or an error word", async () => {
  await using rx = startReceiver((r) => {
    const b = JSON.parse(r.body);
    return typeof b.text === "string" && b.blocks?.[0]?.text?.type === "mrkdwn"
      ? new Response("ok")
      : new Response("invalid_payload", { status: 400 });
  });
  const answer = await sendMessage(
    channel(`name = "s"\ntype = "slack"\nurl = "${rx.url}/services/T/B/X"`),
    message,
    5000,
  );
  assert.deepEqual(answer, { ok: true, detail: "HTTP 200: ok" });
});

Deno.test("telegram: sendMessage on the configured API base; errors give Telegram's description without the token", async () => {
  await using rx = startReceiver((r) => {
    const m = /^\/bot([^/]+)\/sendMessage$/.exec(r.path);
    if (m === null || m[1] !== "123:ABC") {
      return Response.json({
        ok: false,
        error_code: 401,
        description: "Unauthorized",
      }, { status: 401 });
    }
    const b = JSON.parse(r.body);
    if (String(b.chat_id) !== "-100") {
      return Response.json({
        ok: false,
        error_code: 400,
        description: "Bad Request: chat not found",
      }, { status: 400 });
    }
    return Response.json({
      ok: true,
      result: {
        message_id: 7,
        chat: { id: -100, type: "group" },
        date: 1780000000,
        text: b.text,
      },
    });
  });
  const ok = await sendMessage(
    channel(
      `name = "t"\ntype = "telegram"\nbot_token = "123:ABC"\nchat_id = "-100"\napi_base = "${rx.url}"`,
    ),
    message,
    5000,
  );
  assert.deepEqual(ok, { ok: true, detail: "HTTP 200: ok" });
  assert.ok(JSON.parse(rx.requests[0].body).text.startsWith(message.title));
  const bad = await sendMessage(
    channel(
      `name = "t"\ntype = "telegram"\nbot_token = "123:ABC"\nchat_id = -5\napi_base = "${rx.url}"`,
    ),
    message,
    5000,
  );
  assert.deepEqual(bad, {
    ok: false,
    detail: "HTTP 400: Bad Request: chat not found",
  });
});

Deno.test("a receiver that is not there, or too slow, is a failed answer", async () => {
  const rx = startReceiver(() =>
    new Promise((resolve) =>
      setTimeout(() => resolve(new Response("late")), 1500)
    )
  );
  const slow = await sendMessage(
    channel(`name = "w"\ntype = "webhook"\nurl = "${rx.url}/"`),
    message,
    200,
  );
  assert.deepEqual(slow, { ok: false, detail: "no answer within 200 ms" });
  await new Promise((r) => setTimeout(r, 1600));
  await rx.down();
  const gone = await sendMessage(
    channel(`name = "w"\ntype = "webhook"\nurl = "${rx.url}/"`),
    message,
    2000,
  );
  assert.equal(gone.ok, false);
  assert.match(gone.detail, /refused|connect/i);
});
