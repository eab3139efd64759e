/**
 * Email through a real SMTP server: Debian's python3-aiosmtpd (installed by
 * .ci/run), started by the test, printing each message it receives. Plain
 * SMTP, STARTTLS and implicit TLS with a throwaway certificate, and AUTH
 * through ../testing/smtp_auth_server.py (aiosmtpd's command line has no
 * auth option; the script uses its Python API).
 */
import * as assert from "node:assert/strict";
import { resolveAlertsConfig } from "../alerts_config.ts";
import { buildMessage } from "../delivery/message.ts";
import { POOL_DEGRADED_NOTICE } from "../testing/notice.ts";
import { BUILTIN_RULES } from "../rules/mod.ts";
import { sendMessage } from "./mod.ts";
import { freePort } from "@proxmon/shared/free_port";
import { makeTestTls } from "../../../agent/testing/test_tls.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

// pyenv's python3 may shadow Debian's, which has the aiosmtpd module
const PYTHON = await Deno.stat("/usr/bin/python3").then(
  () => "/usr/bin/python3",
  () => "python3",
);

interface Smtp extends AsyncDisposable {
  port: number;
  output(): string;
}

/** aiosmtpd's own server; `args` are its command-line options. */
function startSmtp(args: string[] = []): Promise<Smtp> {
  const port = freePort();
  return startPython(
    port,
    ["-u", "-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`, ...args],
  );
}

/** An aiosmtpd server that requires STARTTLS, then AUTH as user:password. */
function startAuthSmtp(
  cert: string,
  key: string,
  user: string,
  password: string,
): Promise<Smtp> {
  const port = freePort();
  const script = new URL("../testing/smtp_auth_server.py", import.meta.url)
    .pathname;
  return startPython(port, [
    "-u",
    script,
    String(port),
    cert,
    key,
    user,
    password,
  ]);
}

async function startPython(port: number, args: string[]): Promise<Smtp> {
  const child = new Deno.Command(PYTHON, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  const pump = (s: ReadableStream<Uint8Array>) =>
    s.pipeTo(
      new WritableStream({ write: (c) => void (out += decoder.decode(c)) }),
    );
  const pumps = [pump(child.stdout), pump(child.stderr)];
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (err) {
      if (
        !(err instanceof Deno.errors.ConnectionRefused) || Date.now() > deadline
      ) {
        child.kill();
        throw new Error(`aiosmtpd did not start: ${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    output: () => out,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await Promise.allSettled(pumps);
    },
  };
}

const notice = POOL_DEGRADED_NOTICE;
const message = buildMessage([notice], 0, "https://monitor.example");

const email = (port: number, extra: string) =>
  resolveAlertsConfig(
    `[[channel]]\nname = "mail"\ntype = "email"\nhost = "127.0.0.1"\nport = ${port}\nfrom = "proxmon@example.com"\nto = ["admin@example.com", "oncall@example.com"]\n${extra}`,
    "alerts.toml",
    BUILTIN_RULES,
  ).channels[0];

/** Sends the message through an email channel to 127.0.0.1:`port`. */
const sendEmail = (port: number, extra: string) =>
  sendMessage(email(port, extra), message, 15_000);

async function waitForOutput(smtp: Smtp, pattern: RegExp) {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(smtp.output())) {
    if (Date.now() > deadline) {
      throw new Error(`not seen ${pattern}:\n${smtp.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("email: plain SMTP delivers subject, recipients and the alert text", async () => {
  await using smtp = await startSmtp();
  const answer = await sendEmail(smtp.port, `security = "none"`);
  assert.equal(answer.ok, true, answer.detail);
  assert.match(answer.detail, /^250 /);
  await waitForOutput(smtp, /END MESSAGE/);
  const got = smtp.output();
  assert.match(
    got,
    /Subject: \[FIRING crit\] pool_unhealthy on pve-lab \/ tank: pool tank is\s+DEGRADED/, // folded
  );
  assert.match(got, /To: admin@example.com, oncall@example.com/);
  assert.match(got, /X-Proxmon-Severity: crit/);
  assert.match(got, /value: DEGRADED; since 2026-06-01T12:00:10.000Z/);
  assert.match(got, /https:\/\/monitor.example\/hosts\/pve-lab/);
});

Deno.test("email: STARTTLS is required and used; implicit TLS works too", async () => {
  await using tmp = await tempDir("proxmon-smtp-");
  const dir = tmp.path;
  // A CA and a certificate for 127.0.0.1 it signed; the channel trusts
  // the CA through ca_file.
  const { certFile: cert, keyFile: key, caFile } = await makeTestTls(dir);
  {
    await using smtp = await startSmtp(["--tlscert", cert, "--tlskey", key]);
    const answer = await sendEmail(
      smtp.port,
      `security = "starttls"\nca_file = "${caFile}"`,
    );
    assert.equal(answer.ok, true, answer.detail);
    await waitForOutput(smtp, /END MESSAGE/);
    assert.match(smtp.output(), /pool tank is DEGRADED/);
    // without trusting the certificate, the upgrade fails: no plain fallback
    const untrusted = await sendEmail(smtp.port, `security = "starttls"`);
    assert.equal(untrusted.ok, false);
    assert.match(untrusted.detail, /certificate/i);
  }
  {
    await using smtp = await startSmtp([
      "--smtpscert",
      cert,
      "--smtpskey",
      key,
    ]);
    const answer = await sendEmail(
      smtp.port,
      `security = "tls"\nca_file = "${caFile}"`,
    );
    assert.equal(answer.ok, true, answer.detail);
    await waitForOutput(smtp, /END MESSAGE/);
  }
});

Deno.test("email: STARTTLS then AUTH with the configured user and password; a wrong password is a failed answer, and nothing is sent", async () => {
  await using tmp = await tempDir("proxmon-smtp-auth-");
  const { certFile, keyFile, caFile } = await makeTestTls(tmp.path);
  await using smtp = await startAuthSmtp(
    certFile,
    keyFile,
    "proxmon",
    "s3cret pass",
  );
  const base = `security = "starttls"\nca_file = "${caFile}"`;
  const answer = await sendEmail(
    smtp.port,
    `${base}\nusername = "proxmon"\npassword = "s3cret pass"`,
  );
  assert.equal(answer.ok, true, answer.detail);
  await waitForOutput(smtp, /^END$/m);
  assert.match(smtp.output(), /auth ok proxmon/);
  assert.match(smtp.output(), /pool tank is DEGRADED/);

  const wrong = await sendEmail(
    smtp.port,
    `${base}\nusername = "proxmon"\npassword = "guess"`,
  );
  assert.equal(wrong.ok, false);
  assert.match(wrong.detail, /535|auth/i);
  assert.doesNotMatch(
    wrong.detail,
    /guess/,
    "the password is not in the detail",
  );
  await waitForOutput(smtp, /auth failed proxmon/);
  // without credentials the server refuses the mail
  const none = await sendEmail(smtp.port, base);
  assert.equal(none.ok, false);
  assert.match(none.detail, /530|auth/i);
  assert.equal(smtp.output().match(/^BEGIN$/gm)?.length, 1, "one message only");
});

Deno.test("email: a server that is not there is a failed answer", async () => {
  const port = freePort();
  const answer = await sendEmail(port, `security = "none"`);
  assert.equal(answer.ok, false);
  assert.match(answer.detail, /ECONNREFUSED|refused/i);
});
