// /rate: campaigns for raters and admins. An admin creates a campaign (POST /rate, multipart: the
// prompt file is uploaded); a rater gets one prompt at a time and submits JSON to /rate/:id/submit.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readPromptTexts } from "@baton/stage-lm";
import type { Store } from "@baton/store";
import { Hono } from "hono";
import { type CampaignBook, CampaignError, type Submission } from "../campaigns/book.ts";
import { CAMPAIGN_ID, type Campaign } from "../campaigns/campaign.ts";
import { checkpointRefOf } from "../campaigns/sampling.ts";
import { campaignsPage, newCampaignPage, summaryPage, taskPage } from "../pages/rate.ts";
import { requireRole, type WebEnv } from "../security.ts";

export function rateRoutes(book: CampaignBook, store: Store): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.onError((err, c) => {
    if (err instanceof CampaignError) return c.json({ error: err.message }, err.status);
    throw err;
  });

  app.get("/", (c) => c.html(campaignsPage(c.get("session"), book.list())));
  app.get("/new", requireRole("admin"), (c) => c.html(newCampaignPage(c.get("session"))));
  app.post("/", requireRole("admin"), async (c) => {
    const session = c.get("session");
    const form = await c.req.parseBody();
    const refuse = (msg: string) => c.html(newCampaignPage(session, msg), 400);
    const text = (name: string) => (typeof form[name] === "string" ? (form[name] as string).trim() : "");
    const int = (name: string, fallback?: number) =>
      text(name) === "" && fallback !== undefined ? fallback : Number(text(name));
    const id = text("id");
    if (!CAMPAIGN_ID.test(id))
      return refuse(`campaign id ${JSON.stringify(id)}: use lowercase letters, digits and '-', up to 48`);
    const k = int("k");
    if (!Number.isInteger(k) || k < 2 || k > 9)
      return refuse(`K (responses per prompt) must be an integer in 2..9, got ${JSON.stringify(text("k"))}`);
    const wanted = int("wanted");
    if (!Number.isInteger(wanted) || wanted < 1)
      return refuse(`rankings wanted must be a positive integer, got ${JSON.stringify(text("wanted"))}`);
    const maxTokens = int("maxTokens", 32);
    if (!Number.isInteger(maxTokens) || maxTokens < 1)
      return refuse(`max new tokens must be a positive integer, got ${JSON.stringify(text("maxTokens"))}`);
    const guidelines = text("guidelines");
    if (guidelines === "") return refuse("write guidelines: raters see them beside every prompt");
    const file = form["prompts"];
    if (!(file instanceof File) || file.size === 0) return refuse("upload a prompt file (JSONL)");
    let checkpoint: Campaign["checkpoint"];
    try {
      checkpoint = await checkpointRefOf(store, text("checkpoint"));
    } catch (err) {
      return refuse(`checkpoint ${JSON.stringify(text("checkpoint"))}: ${(err as Error).message}`);
    }
    const dir = await mkdtemp(join(tmpdir(), "baton-prompts-"));
    let prompts: string[];
    try {
      const path = join(dir, "prompts.jsonl");
      await writeFile(path, new Uint8Array(await file.arrayBuffer()));
      prompts = await readPromptTexts([pathToFileURL(path).href], {
        policy: "fail",
        maxChars: 100_000,
        opener: () => undefined,
      });
    } catch (err) {
      return refuse(`prompt file ${file.name}: ${(err as Error).message.replaceAll(dir, "")}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (prompts.length === 0) return refuse(`prompt file ${file.name} holds no prompt`);
    const campaign: Campaign = {
      id,
      checkpoint,
      k,
      wanted,
      guidelines,
      createdBy: session.user.name,
      createdAt: new Date().toISOString(),
      sampling: { maxTokens, temperature: 1, seed: 0 },
    };
    await book.create(campaign, prompts);
    return c.redirect(`/rate/${id}/summary`, 303);
  });

  app.get("/:id", (c) => {
    const id = c.req.param("id");
    const session = c.get("session");
    const summary = book.summary(id);
    return c.html(
      taskPage(session, {
        campaign: summary.campaign,
        summary,
        progress: book.progress(id, session.user.name),
        next: book.next(id, session.user.name),
        submissionId: randomUUID(),
      }),
    );
  });
  app.get("/:id/summary", requireRole("admin"), (c) =>
    c.html(summaryPage(c.get("session"), book.summary(c.req.param("id")))),
  );
  app.get("/:id/summary.json", requireRole("admin"), (c) => c.json(book.summary(c.req.param("id"))));

  app.post("/:id/submit", async (c) => {
    if (!(c.req.header("content-type") ?? "").includes("application/json"))
      return c.json({ error: "send the submission as JSON (content-type: application/json)" }, 415);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "the submission is not valid JSON" }, 400);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return c.json({ error: "the submission must be a JSON object {submissionId, item, action, order, ties}" }, 400);
    const { judgement, progress } = await book.submit(
      c.req.param("id"),
      c.get("session").user.name,
      body as Submission,
    );
    return c.json(
      { recorded: { submissionId: judgement.submissionId, kind: judgement.kind, item: judgement.item }, progress },
      201,
    );
  });
  return app;
}
