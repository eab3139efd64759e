import assert from "node:assert/strict";
import { caseSteps } from "@proxmon/shared/case_steps";
import {
  contentLength,
  HeadFinder,
  isUpgradeWithBody,
  MAX_HEAD_BYTES,
  MessageEnd,
  parseHttpHead,
} from "./http_head.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("parseHttpHead() lowercases header names, trims values and joins repeats", () => {
  const head = parseHttpHead(
    "GET /agent/ws HTTP/1.1\r\nHost: x\r\nUpgrade:  WebSocket \r\n" +
      "x-a: 1\r\nX-A: 2\r\nno colon here\r\n\r\n",
  );
  assert.equal(head.start, "GET /agent/ws HTTP/1.1");
  assert.deepEqual([...head.headers], [
    ["host", "x"],
    ["upgrade", "WebSocket"],
    ["x-a", "1, 2"],
  ]);
});

Deno.test("contentLength() is one whole number or null", () => {
  const of = (value?: string) =>
    contentLength(
      parseHttpHead(
        `POST / HTTP/1.1\r\n${
          value === undefined ? "" : `content-length: ${value}\r\n`
        }\r\n`,
      ),
    );
  assert.equal(of("67108864"), 64 * 1024 * 1024);
  assert.equal(of("0"), 0);
  for (const odd of [undefined, "", "-1", "1e6", "5, 5", "0x10"]) {
    assert.equal(of(odd), null, String(odd));
  }
});

Deno.test("isUpgradeWithBody(): a WebSocket upgrade with a Content-Length over 0 or a Transfer-Encoding", async (t) => {
  const ws = "GET /agent/ws HTTP/1.1\r\nconnection: Upgrade\r\n";
  await caseSteps(
    t,
    [
      [["an agent's upgrade", `${ws}upgrade: websocket\r\n`], false],
      [
        [
          "Content-Length 0",
          `${ws}upgrade: websocket\r\ncontent-length: 0\r\n`,
        ],
        false,
      ],
      [[
        "Content-Length 10",
        `${ws}upgrade: websocket\r\ncontent-length: 10\r\n`,
      ], true],
      [
        [
          "chunked",
          `${ws}Upgrade: WebSocket\r\ntransfer-encoding: chunked\r\n`,
        ],
        true,
      ],
      [
        ["a broken length", `${ws}upgrade: websocket\r\ncontent-length: x\r\n`],
        true,
      ],
      [[
        "among other protocols",
        `${ws}upgrade: foo, websocket\r\ncontent-length: 1\r\n`,
      ], true],
      [
        [
          "not an upgrade",
          "POST /api/hosts HTTP/1.1\r\ncontent-length: 10\r\n",
        ],
        false,
      ],
      [
        ["another protocol", `${ws}upgrade: h2c\r\ncontent-length: 10\r\n`],
        false,
      ],
    ],
    ([, head]) => isUpgradeWithBody(parseHttpHead(`${head}\r\n`)),
    ([name]) => name,
  );
});

Deno.test("HeadFinder finds the blank line across chunks, in any split, and keeps the head's bytes", () => {
  const text = "GET / HTTP/1.1\r\nhost: x\r\n\r\n";
  const body = "hello";
  const all = bytes(text + body);
  for (let a = 0; a <= all.length; a++) {
    for (let b = a; b <= all.length; b++) {
      const finder = new HeadFinder();
      const parts = [all.subarray(0, a), all.subarray(a, b), all.subarray(b)];
      let found = -1;
      let offset = 0;
      for (const part of parts) {
        const at = finder.push(part);
        if (at >= 0) {
          found = offset + at;
          break;
        }
        offset += part.length;
      }
      assert.equal(found, text.length, `split at ${a}, ${b}`);
      assert.equal(finder.head()?.headers.get("host"), "x");
    }
  }
  // a CR that breaks a match starts the next one
  assert.equal(new HeadFinder().push(bytes("GET / HTTP/1.1\r\r\n\r\n")), 19);
  assert.equal(new HeadFinder().push(bytes("GET / HTTP/1.1\r\n")), -1);
});

Deno.test("HeadFinder: reset() starts the next head; a head over MAX_HEAD_BYTES is found but not read", () => {
  const finder = new HeadFinder();
  assert.ok(finder.push(bytes("GET /a HTTP/1.1\r\n\r\n")) > 0);
  finder.reset();
  assert.ok(finder.push(bytes("GET /b HTTP/1.1\r\n\r\n")) > 0);
  assert.equal(finder.head()?.start, "GET /b HTTP/1.1");
  finder.reset();
  const pad = `x-pad: ${"p".repeat(MAX_HEAD_BYTES)}\r\n`;
  assert.equal(finder.push(bytes(`GET / HTTP/1.1\r\n${pad}`)), -1);
  assert.ok(finder.push(bytes("upgrade: websocket\r\n\r\n")) > 0);
  assert.equal(finder.head(), null);
});

Deno.test("MessageEnd finds the last byte of an answer from its Content-Length, across chunks", () => {
  const answer =
    "HTTP/1.1 413 Payload Too Large\r\ncontent-length: 26\r\n\r\n" +
    '{"error":"body_too_large"}';
  const all = bytes(answer + "HTTP/1.1 200 OK\r\n");
  for (let a = 0; a <= all.length; a++) {
    const end = new MessageEnd();
    const first = end.push(all.subarray(0, a));
    const at = first !== null && first >= 0
      ? first
      : a + (end.push(all.subarray(a)) ?? NaN);
    assert.equal(at, answer.length, `split at ${a}`);
  }
  // no Content-Length: its end is not known here
  const chunked = new MessageEnd();
  assert.equal(
    chunked.push(bytes("HTTP/1.1 413 x\r\ntransfer-encoding: chunked\r\n\r\n")),
    null,
  );
  const empty = new MessageEnd();
  assert.equal(
    empty.push(bytes("HTTP/1.1 413 x\r\ncontent-length: 0\r\n")),
    -1,
  );
  assert.equal(empty.push(bytes("\r\n")), 2);
});
