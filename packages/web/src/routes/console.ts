// The console (/): runs, a run's page with its live part and its server-sent events, a checkpoint's
// lineage and downloads, the dead letters and (admin) their replay.
import { Readable } from "node:stream";
import type { Bus } from "@baton/bus";
import { isBatonError, keys } from "@baton/contracts";
import { lineage, readManifest } from "@baton/runner";
import { type StageReport, storedStageReport } from "@baton/stage-lm";
import type { Store } from "@baton/store";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { RunIndex, RunView } from "../console/run-index.ts";
import { checkpointPage, DOWNLOADS } from "../pages/checkpoint.ts";
import { runLive, runPage, runsPage } from "../pages/console.ts";
import { deadLettersPage } from "../pages/dead-letters.ts";
import { requireRole, type WebEnv } from "../security.ts";

/** Event streams open at once, per app: each holds a connection. */
const MAX_STREAMS = 64;

export function consoleRoutes(index: RunIndex, store: Store, bus: Bus): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  // a committed checkpoint's report never changes: read it once
  const reports = new Map<string, Promise<StageReport | null>>();
  const reportOf = (uri: string) => {
    let r = reports.get(uri);
    if (!r) {
      r = readManifest(store, uri)
        .then((m) => storedStageReport(store, uri, m))
        .catch(() => null);
      reports.set(uri, r);
    }
    return r;
  };
  const reportsOf = async (r: RunView) =>
    new Map(
      await Promise.all(
        r.steps.filter((s) => s.checkpoint).map(async (s) => [s.cursor, await reportOf(s.checkpoint!)] as const),
      ),
    );
  const runOr404 = (id: string) => index.run(id);
  let streams = 0;

  app.get("/", (c) => c.html(runsPage(c.get("session"), index.list())));
  app.get("/runs/:id", async (c) => {
    const r = runOr404(c.req.param("id"));
    if (!r)
      return c.json(
        { error: `no run ${JSON.stringify(c.req.param("id"))} on this bus; see / for the runs there are` },
        404,
      );
    return c.html(runPage(c.get("session"), r, await reportsOf(r)));
  });
  app.get("/runs/:id/live", async (c) => {
    const r = runOr404(c.req.param("id"));
    if (!r) return c.json({ error: `no run ${JSON.stringify(c.req.param("id"))}` }, 404);
    return c.html(runLive(r, await reportsOf(r)));
  });
  app.get("/runs/:id/events", (c) => {
    const runId = c.req.param("id");
    if (streams >= MAX_STREAMS)
      return c.json({ error: `${MAX_STREAMS} event streams are open already; close a run page and retry` }, 503);
    streams++;
    return streamSSE(c, async (stream) => {
      const queue: { event: string; data: string }[] = [];
      let wake: (() => void) | null = null;
      const stop = index.listen(runId, (e) => {
        queue.push(
          e.type === "dev.baton.stage.progress"
            ? {
                event: "progress",
                data: JSON.stringify({
                  cursor: e.data.cursor,
                  step: e.data.step,
                  trainStep: e.data.trainStep,
                  totalSteps: e.data.totalSteps,
                  metrics: e.data.metrics,
                }),
              }
            : { event: "change", data: JSON.stringify({ type: e.type }) },
        );
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        await stream.writeSSE({ event: "hello", data: JSON.stringify({ runId }) });
        while (!stream.aborted) {
          const next = queue.shift();
          if (next) await stream.writeSSE(next);
          else {
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 15_000);
            });
          }
          wake = null;
        }
      } finally {
        stop();
        streams--;
      }
    });
  });

  app.get("/checkpoints", async (c) => {
    const uri = c.req.query("uri") ?? "";
    try {
      return c.html(checkpointPage(c.get("session"), uri, await lineage(store, uri)));
    } catch (err) {
      return c.json(
        {
          error: `checkpoint ${JSON.stringify(uri)}: ${isBatonError(err) || err instanceof Error ? err.message : String(err)}`,
        },
        404,
      );
    }
  });
  app.get("/checkpoints/file", async (c) => {
    const uri = c.req.query("uri") ?? "";
    const name = c.req.query("name") ?? "";
    if (!(DOWNLOADS as readonly string[]).includes(name))
      return c.json({ error: `download one of ${DOWNLOADS.join(", ")}, not ${JSON.stringify(name)}` }, 400);
    let manifest: Awaited<ReturnType<typeof readManifest>>;
    try {
      manifest = await readManifest(store, uri);
    } catch (err) {
      return c.json({ error: `checkpoint ${JSON.stringify(uri)}: ${(err as Error).message}` }, 404);
    }
    const file = manifest.files.find((f) => f.path === name);
    if (!file) return c.json({ error: `checkpoint ${uri} has no ${name}` }, 404);
    const body = await store.getStream(keys.file(store.keyOf(uri.endsWith("/") ? uri : `${uri}/`), name), {
      sha256: file.sha256,
      size: file.size,
      what: `${name} of checkpoint ${uri}`,
    });
    c.header("content-type", name.endsWith(".json") ? "application/json" : "application/octet-stream");
    c.header("content-length", String(file.size));
    c.header("content-disposition", `attachment; filename="${name}"`);
    return c.body(Readable.toWeb(body) as ReadableStream);
  });

  app.get("/dead-letters", (c) => c.html(deadLettersPage(c.get("session"), index.deadLetters())));
  app.post("/dead-letters/:seq/replay", requireRole("admin"), async (c) => {
    const letter = index.deadLetter(Number(c.req.param("seq")));
    if (!letter) return c.json({ error: `no dead letter #${c.req.param("seq")}; see /dead-letters` }, 404);
    if (letter.replayedAt)
      return c.json({ error: `dead letter #${letter.seq} was replayed at ${letter.replayedAt} already` }, 409);
    if (!letter.originalSubject)
      return c.json(
        { error: `dead letter #${letter.seq} does not say which subject it came from; publish it by hand` },
        422,
      );
    // a new message id: the original's would be dropped as a duplicate inside the stream's window
    await bus.publishRaw(letter.originalSubject, letter.data, { msgId: `${letter.eventId}:replay:${letter.seq}` });
    letter.replayedAt = new Date().toISOString();
    return c.redirect("/dead-letters", 303);
  });
  return app;
}
