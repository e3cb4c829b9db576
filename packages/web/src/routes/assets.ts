// The app's own scripts and styles, and the libraries it uses, served from the app itself (never
// from a CDN): read once from this package and from node_modules at start.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Hono } from "hono";
import type { WebEnv } from "../security.ts";

const require = createRequire(import.meta.url);
const own = (name: string) => readFileSync(new URL(`../assets/${name}`, import.meta.url), "utf8");

const ASSETS: Record<string, { type: string; body: string }> = {
  "style.css": { type: "text/css; charset=utf-8", body: own("style.css") },
  "rank.js": { type: "text/javascript; charset=utf-8", body: own("rank.js") },
  "console.js": { type: "text/javascript; charset=utf-8", body: own("console.js") },
  "sortable.min.js": {
    type: "text/javascript; charset=utf-8",
    body: readFileSync(require.resolve("sortablejs/Sortable.min.js"), "utf8"),
  },
};

export function assetRoutes(): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.get("/:name", (c) => {
    const a = ASSETS[c.req.param("name")];
    if (!a) return c.json({ error: `no asset ${c.req.param("name")}` }, 404);
    c.header("content-type", a.type);
    c.header("cache-control", "no-cache");
    return c.body(a.body);
  });
  return app;
}
