/**
 * Dashboard authentication: the login and logout routes and the guards that
 * put pages and `/api/*` behind a session or an API token. Without a
 * password hash (development only; config refuses it in production) every
 * guard lets requests through and the pages show a "no password set" banner.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getConnInfo } from "hono/deno";
import * as v from "valibot";
import type { Clock } from "@proxmon/shared/clock";
import type { Database } from "../store/client.ts";
import { verifyPassword } from "./password.ts";
import { pageHeaders } from "../web/page_headers.ts";
import { LoginPage } from "../web/views/login_page.tsx";
import { verifyApiToken } from "./api_tokens.ts";
import { createLoginLimiter, type LoginLimiter } from "./login_limiter.ts";
import { clientKey } from "../edge/tcp_front.ts";
import {
  type ClientAddressOf,
  createClientAddress,
  peerAddress,
} from "./client_address.ts";
import {
  DEFAULT_SESSION_TTL_MS,
  endSession,
  hasSession,
  type SessionOptions,
  sessionSigningKey,
  startSession,
} from "./session.ts";

export interface AuthConfig {
  /** scrypt hash; null leaves the dashboard open (development) */
  dashboardPasswordHash: string | null;
  /** null: a random per-process secret, so sessions end on restart */
  sessionSecret: string | null;
  sessionTtlMs?: number;
}

export interface AuthDeps {
  database: Database;
  clock: Clock;
  config: AuthConfig;
  /** defaults to 5 failed logins per minute per client */
  limiter?: LoginLimiter;
  /** all clients together; defaults to 100 failed logins per minute */
  globalLimiter?: LoginLimiter;
  /** scrypt checks running at once, all clients together (default 2) */
  maxConcurrentChecks?: number;
  /** the password check; the real one unless a test counts its calls */
  verify?: (password: string, hash: string) => Promise<boolean>;
  /** defaults to the peer address as `hono/deno` reports it */
  clientAddress?: ClientAddressOf;
  /** told once when the session secret had to be made up */
  warn?: (message: string) => void;
}

export interface Auth {
  /** `GET/POST /login`, `POST /logout` */
  routes: Hono;
  /** for HTML pages: redirects to the login page without a session */
  requirePage: MiddlewareHandler;
  /** for JSON, fragments and live events: 401 without a session or token */
  requireApi: MiddlewareHandler;
  passwordSet: boolean;
}

const LoginForm = v.object({
  password: v.pipe(v.string(), v.maxLength(1024)),
  next: v.optional(v.pipe(v.string(), v.maxLength(2048))),
});

/** The login form is a password and a path: a few hundred bytes. */
export const LOGIN_BODY_BYTES = 8 * 1024;

const GLOBAL = "*";

/**
 * Only a local path may follow a login; anything else could leave the site.
 * Control characters are stripped first (browsers ignore a tab or newline
 * in a URL, so `/\t/evil.example/` is `//evil.example/` to them); then the
 * path must be `/` alone or `/` and a character that cannot start another
 * host (not `/` or `\`), and hold only printable ASCII, so it is always a
 * valid Location header.
 */
export function safeNext(next: string | undefined): string {
  if (!next) return "/";
  const clean = next.replace(/\p{Cc}/gu, "");
  if (clean === "/") return "/";
  if (!/^\/[A-Za-z0-9\-._~%!$&'()*+,;=:@?#][\x21-\x7e]*$/.test(clean)) {
    return "/";
  }
  return clean;
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes));
}

/** Builds the login routes and guards for one app instance. */
export function createAuth(deps: AuthDeps): Auth {
  const { database, clock, config } = deps;
  const passwordHash = config.dashboardPasswordHash;
  const passwordSet = passwordHash !== null;
  let secret = config.sessionSecret;
  if (secret === null) {
    secret = randomSecret();
    if (passwordSet) {
      (deps.warn ?? console.warn)(
        "SESSION_SECRET is not set: using a random one, so every login ends when the server restarts",
      );
    }
  }
  const session: SessionOptions = {
    database,
    secret: sessionSigningKey(secret, passwordHash ?? ""),
    ttlMs: config.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    now: () => clock.now(),
  };
  const now = () => clock.now();
  const limiter = deps.limiter ?? createLoginLimiter({ now });
  const globalLimiter = deps.globalLimiter ??
    createLoginLimiter({ now, maxFailures: 100 });
  const verify = deps.verify ?? verifyPassword;
  const maxChecks = deps.maxConcurrentChecks ?? 2;
  const clientAddress = deps.clientAddress ??
    createClientAddress(peerAddress(getConnInfo), () => false);
  // Clients whose password is being checked right now; one check each.
  const checking = new Set<string>();
  // Who the login limits count: an IPv6 client by its /64, as the
  // connection caps do (edge/tcp_front.ts).
  const loginClient = (c: Context) => clientKey(clientAddress(c));

  const bearerOk = async (c: Context) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match !== null && await verifyApiToken(database, match[1]);
  };

  const requirePage: MiddlewareHandler = async (c, next) => {
    if (!passwordSet || await hasSession(c, session)) return await next();
    const url = new URL(c.req.url);
    const target = url.pathname + url.search;
    return c.redirect(`/login?next=${encodeURIComponent(target)}`, 302);
  };

  const requireApi: MiddlewareHandler = async (c, next) => {
    if (!passwordSet || await hasSession(c, session) || await bearerOk(c)) {
      return await next();
    }
    c.header("WWW-Authenticate", 'Bearer realm="proxmon"');
    return c.json({ error: "unauthorized" }, 401);
  };

  const routes = new Hono();
  routes.use("/login", pageHeaders);
  routes.get("/login", async (c) => {
    if (!passwordSet || await hasSession(c, session)) return c.redirect("/");
    return c.html(<LoginPage next={safeNext(c.req.query("next"))} />);
  });

  const tooMany = (c: Context, wait: number) => {
    c.header("Retry-After", String(wait));
    return c.html(
      <LoginPage
        next={safeNext(c.req.query("next"))}
        error={`Too many login attempts. Try again in ${wait} s.`}
      />,
      429,
    );
  };

  /**
   * Admits one attempt or says how long to wait. Synchronous, so admitting
   * and counting happen with no other request in between: the attempt is
   * counted as a failure before the slow check (and taken back if it
   * passes), and parallel attempts cannot outrun the count.
   */
  const admit = (client: string): number => {
    const wait = Math.max(
      limiter.retryAfterSeconds(client),
      globalLimiter.retryAfterSeconds(GLOBAL),
    );
    if (wait > 0) return wait;
    // One check in flight per client, and a few in all: the guess rate is
    // the limiter's, not the CPU's. A guess refused because the same
    // client's last one is still being checked is a guess too, and counts
    // (not toward the global limit, which one client's burst would spend
    // for everyone): otherwise, over real sockets, attempts that arrived
    // after the first check finished were checked with only one failure
    // counted, and the right password sent 6th of 40 got in.
    if (checking.has(client)) {
      limiter.recordFailure(client);
      return Math.max(1, limiter.retryAfterSeconds(client));
    }
    if (checking.size >= maxChecks) return 1;
    return 0;
  };

  routes.post(
    "/login",
    // The limiter looks first, before a byte of the body is read.
    async (c, next) => {
      if (!passwordSet) return c.redirect("/", 303);
      const wait = admit(loginClient(c));
      if (wait > 0) return tooMany(c, wait);
      await next();
    },
    bodyLimit({
      maxSize: LOGIN_BODY_BYTES,
      onError: (c) => {
        // An oversized form is a failed attempt too.
        limiter.recordFailure(loginClient(c));
        globalLimiter.recordFailure(GLOBAL);
        return c.text("login form too large", 413);
      },
    }),
    async (c) => {
      const client = loginClient(c);
      const wait = admit(client); // again: others may have got in meanwhile
      if (wait > 0) return tooMany(c, wait);
      checking.add(client);
      limiter.recordFailure(client);
      globalLimiter.recordFailure(GLOBAL);
      try {
        const form = v.safeParse(LoginForm, await c.req.parseBody());
        const next = safeNext(form.success ? form.output.next : undefined);
        if (
          form.success && await verify(form.output.password, passwordHash!)
        ) {
          limiter.reset(client);
          globalLimiter.forgetOne(GLOBAL);
          await startSession(c, session);
          return c.redirect(next, 303);
        }
        return c.html(<LoginPage next={next} error="Wrong password." />, 401);
      } finally {
        checking.delete(client);
      }
    },
  );

  routes.post("/logout", async (c) => {
    await endSession(c, session);
    return c.redirect(passwordSet ? "/login" : "/", 303);
  });

  return { routes, requirePage, requireApi, passwordSet };
}
