// Every cross-cutting rule of the web app, applied once to the whole app (app.ts), in this order:
//   request log      method, path, status, user, ms: never headers, cookies, query strings or bodies
//   secure headers   CSP 'self' only (every script and style is served by the app itself)
//   body limit       a request body over maxBodyBytes is refused with 413 before it is read
//   session          no session: only the login page (and its stylesheet) answer; pages redirect to
//                    /login, everything else gets 401
//   rate limit       per user (login attempts: per client address); over budget: 429 + Retry-After
//   CSRF             every POST/PUT/PATCH/DELETE echoes the session's token (header or form field),
//                    else 403; the login form, which has no session yet, must come from this origin

import type { Logger } from "@baton/runner";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import { type RateLimit, RateLimiter } from "./auth/rate-limit.ts";
import { CSRF_FIELD, CSRF_HEADER, csrfMatches, SESSION_COOKIE, type Session, type Sessions } from "./auth/sessions.ts";
import type { Role } from "./auth/users.ts";

export interface SecurityOptions {
  sessions: Sessions;
  log: Logger;
  maxBodyBytes: number;
  rateLimit: RateLimit;
  loginRateLimit: RateLimit;
}

export type WebEnv = { Variables: { session: Session } };

const PUBLIC = new Set(["/login", "/assets/style.css"]);
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const wantsHtml = (c: Context) => c.req.method === "GET" && (c.req.header("accept") ?? "").includes("text/html");

export function security(o: SecurityOptions): MiddlewareHandler<WebEnv>[] {
  const perUser = new RateLimiter(o.rateLimit);
  const perAddress = new RateLimiter(o.loginRateLimit);
  return [
    async (c, next) => {
      const started = performance.now();
      await next();
      const session = c.get("session") as Session | undefined;
      o.log.info("http", {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        user: session?.user.name ?? null,
        ms: Math.round(performance.now() - started),
      });
    },
    // same-origin, not no-referrer: under no-referrer a browser posts the login form with "Origin: null"
    secureHeaders({
      referrerPolicy: "same-origin",
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
    bodyLimit({
      maxSize: o.maxBodyBytes,
      onError: (c) =>
        c.json(
          {
            error: `request body is over the limit of ${o.maxBodyBytes} bytes; send less (a prompt file for a campaign must fit too)`,
          },
          413,
        ),
    }),
    async (c, next) => {
      const session = o.sessions.get(getCookie(c, SESSION_COOKIE));
      if (session) c.set("session", session);
      if (PUBLIC.has(c.req.path)) {
        if (c.req.path === "/login" && c.req.method === "POST") {
          const wait = perAddress.take(`login:${clientAddress(c)}`);
          if (wait > 0) return tooMany(c, wait, "too many login attempts from this address");
          const origin = c.req.header("origin");
          if (origin !== undefined && origin !== new URL(c.req.url).origin)
            return c.json({ error: `login form posted from ${origin}, not from this app; open /login here` }, 403);
        }
        return next();
      }
      if (!session) {
        if (wantsHtml(c)) return c.redirect("/login", 303);
        return c.json({ error: "not logged in: log in at /login with the token `baton web add-user` printed" }, 401);
      }
      const wait = perUser.take(`user:${session.user.name}`);
      if (wait > 0) return tooMany(c, wait, `too many requests from ${session.user.name}`);
      if (!SAFE_METHODS.has(c.req.method)) {
        const given = c.req.header(CSRF_HEADER) ?? (await formField(c, CSRF_FIELD));
        if (!csrfMatches(session, given))
          return c.json({ error: "missing or wrong CSRF token: reload the page and submit again" }, 403);
      }
      return next();
    },
  ];
}

/** Refuses a request of a user whose role is not `role` (403). */
export function requireRole(role: Role): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    if (c.get("session").user.role !== role)
      return c.json(
        { error: `this needs the ${role} role; ${c.get("session").user.name} is a ${c.get("session").user.role}` },
        403,
      );
    return next();
  };
}

function tooMany(c: Context, waitS: number, what: string) {
  c.header("Retry-After", String(waitS));
  return c.json({ error: `${what}; retry in ${waitS}s` }, 429);
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!type.includes("application/x-www-form-urlencoded") && !type.includes("multipart/form-data")) return undefined;
  const body = await c.req.parseBody();
  const v = body[name];
  return typeof v === "string" ? v : undefined;
}
