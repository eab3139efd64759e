/**
 * Security headers for dashboard pages. Everything is same-origin, so the
 * content security policy allows only this server: no inline scripts, no
 * external hosts, no framing.
 */
import { secureHeaders } from "hono/secure-headers";

/** Middleware that sets a strict CSP and the usual hardening headers. */
export const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  referrerPolicy: "same-origin",
});
