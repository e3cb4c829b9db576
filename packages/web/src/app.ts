// The web app: one Hono app with two faces over the same bus and store, the ranking pages (/rate)
// and the console for runs (/), behind the security middleware (security.ts) applied once.

import type { Bus } from "@baton/bus";
import type { Logger } from "@baton/runner";
import type { Store } from "@baton/store";
import { Hono } from "hono";
import type { RateLimit } from "./auth/rate-limit.ts";
import { Sessions } from "./auth/sessions.ts";
import type { UserFile } from "./auth/users.ts";
import { CampaignBook } from "./campaigns/book.ts";
import { RunIndex } from "./console/run-index.ts";
import { assetRoutes } from "./routes/assets.ts";
import { consoleRoutes } from "./routes/console.ts";
import { loginRoutes } from "./routes/login.ts";
import { rateRoutes } from "./routes/rate.ts";
import { security, type WebEnv } from "./security.ts";

export interface WebAppOptions {
  bus: Bus;
  store: Store;
  users: UserFile;
  log: Logger;
  /** default 1 MiB: a prompt file for a campaign must fit */
  maxBodyBytes?: number;
  /** per user; default 300 requests a minute */
  rateLimit?: RateLimit;
  /** per client address; default 20 attempts a minute */
  loginRateLimit?: RateLimit;
  /** mark the session cookie Secure (serve behind HTTPS) */
  secureCookie?: boolean;
  /** onnxruntime threads for sampling a campaign's responses (default 2) */
  threads?: number;
}

export interface WebApp {
  app: Hono<WebEnv>;
  campaigns: CampaignBook;
  runs: RunIndex;
  /** stops watching the bus */
  close(): Promise<void>;
}

export const DEFAULT_WEB_LIMITS = {
  maxBodyBytes: 1024 * 1024,
  rateLimit: { requests: 300, windowMs: 60_000 },
  loginRateLimit: { requests: 20, windowMs: 60_000 },
} as const;

/** Builds the app and reads the campaigns the store already holds. */
export async function createWebApp(o: WebAppOptions): Promise<WebApp> {
  const sessions = new Sessions();
  const campaigns = new CampaignBook(o.store, o.bus, o.log, o.threads ?? 2);
  await campaigns.load();
  const runs = new RunIndex();
  await runs.start(o.bus);
  const app = new Hono<WebEnv>();
  app.use(
    ...security({
      sessions,
      log: o.log,
      maxBodyBytes: o.maxBodyBytes ?? DEFAULT_WEB_LIMITS.maxBodyBytes,
      rateLimit: o.rateLimit ?? DEFAULT_WEB_LIMITS.rateLimit,
      loginRateLimit: o.loginRateLimit ?? DEFAULT_WEB_LIMITS.loginRateLimit,
    }),
  );
  app.route("/", loginRoutes(o.users, sessions, o.secureCookie ?? false));
  app.route("/assets", assetRoutes());
  app.route("/rate", rateRoutes(campaigns, o.store));
  app.route("/", consoleRoutes(runs, o.store, o.bus));
  app.notFound((c) => c.json({ error: `no page ${c.req.path}; see / (runs) and /rate (ranking)` }, 404));
  app.onError((err, c) => {
    o.log.error("request failed", { method: c.req.method, path: c.req.path, error: err.message });
    return c.json({ error: `the server failed on ${c.req.method} ${c.req.path}: ${err.message}` }, 500);
  });
  return {
    app,
    campaigns,
    runs,
    close: async () => {
      await runs.close();
      await campaigns.settled();
    },
  };
}
