/** The page frame every dashboard page shares: head, header bar, banner. */
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { AlertBanner } from "./alert_banner.tsx";

export interface LayoutProps {
  title: string;
  /** false in development without DASHBOARD_PASSWORD_HASH */
  passwordSet: boolean;
  /**
   * shows the logout button; by default whenever a password is set, since
   * every page but the login page is behind it
   */
  loggedIn?: boolean;
  /** classic scripts under /assets that set globals, run before `scripts` */
  vendorScripts?: string[];
  /** extra scripts under /assets, loaded as modules after the page */
  scripts?: string[];
  styles?: string[];
  children?: Child;
}

/** Wraps a page body in the shared document. */
export function Layout(props: LayoutProps) {
  // Without the doctype the browser falls back to quirks mode.
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <title>{props.title} · proxmon</title>
          <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
          <link rel="stylesheet" href="/assets/app.css" />
          {(props.styles ?? []).map((s) => (
            <link rel="stylesheet" href={`/assets/${s}`} />
          ))}
          {(props.vendorScripts ?? []).map((s) => (
            <script defer src={`/assets/${s}`}></script>
          ))}
          {(props.scripts ?? []).map((s) => (
            <script type="module" src={`/assets/${s}`}></script>
          ))}
        </head>
        <body>
          <header class="topbar">
            <a class="brand" href="/">proxmon</a>
            <nav aria-label="Main">
              <a href="/">Overview</a>
              <a href="/alerts">Alerts</a>
            </nav>
            <p id="connection" class="connection" role="status" hidden>
              Connection lost · reconnecting…
            </p>
            {(props.loggedIn ?? props.passwordSet) && (
              <form method="post" action="/logout" class="logout">
                <button type="submit">Log out</button>
              </form>
            )}
          </header>
          {!props.passwordSet && (
            <p class="banner warning" role="alert">
              No password set: anyone who can reach this server can see this
              dashboard. Set <code>DASHBOARD_PASSWORD_HASH</code> (from{" "}
              <code>deno task hash-password</code>).
            </p>
          )}
          <AlertBanner />
          {props.children}
        </body>
      </html>
    </>
  );
}
