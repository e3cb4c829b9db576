// The console in a real browser, on the embedded defaults (memory bus, folder store) as `baton run
// --web` serves it, and on a cluster (nats-server, an S3 server) as `baton web` serves it there: a
// short run's progress moves on its page while it trains, and at the end every stage's row is
// committed with its charts and before/after metrics; the checkpoint page shows the lineage and
// serves the files; a dead-lettered run shows its reason and an admin replays it.
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { keys, subjects } from "@baton/contracts";
import { generateDemoData } from "@baton/data";
import { type StageEnv, silentLogger, stageEnv } from "@baton/runner";
import { readRecipeFile, runPipeline } from "@baton/stage-registry";
import { startTestServices, type TestServices } from "@baton/testing";
import { type RunningWeb, startWeb, UserFile } from "@baton/web";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, logInPage } from "./browser.ts";

const DOCS = fileURLToPath(new URL("../../docs/", import.meta.url));
// run ids of this run: the bus may be a shared one (NATS_URL from the environment)
const [WATCHED, BROKEN] = ["watched", "broken"].map((r) => `${r}-${Date.now().toString(36)}`) as [string, string];
const RECIPE = `name: console-tiny
seed: 3
steps:
  - name: pretrain
    stage: pretrain
    config:
      model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 48 }
      train: { steps: 160, batchSize: 8, warmupSteps: 2, evalEvery: 80, snapshotEvery: 0 }
      evalBatches: 1
      samples: { count: 1, maxTokens: 8 }
    data: [general.train.jsonl, general.val.jsonl]
  - name: finetune
    stage: finetune
    config:
      train: { steps: 80, batchSize: 8, warmupSteps: 2, evalEvery: 40, snapshotEvery: 0 }
      eval: { maxExamples: 4, maxTokens: 12, samples: 1 }
    data: [task.train.jsonl, task.test.jsonl]
`;

describe.each(["embedded", "cluster"] as const)("console in a browser (%s)", (where) => {
  let dir: string;
  let services: TestServices | undefined;
  let env: StageEnv;
  let web: RunningWeb;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "baton-console-"));
    // on the cluster, stage code reads local data only where BATON_ALLOW_DATA says, as a service would
    services = where === "cluster" ? await startTestServices() : undefined;
    env = await stageEnv({
      ...services?.env,
      BATON_HOME: join(dir, "home"),
      ...(services && { BATON_ALLOW_DATA: `file://${join(dir, "data")}/` }),
    });
    const users = new UserFile(join(dir, "home", "web-users.json"));
    const token = await users.add("ada", "admin");
    web = await startWeb({ bus: env.bus, store: env.store, log: silentLogger, users, port: 0 });
    await generateDemoData(join(dir, "data"), { seed: 4, scale: 0.2 });
    await writeFile(join(dir, "data", "recipe.yaml"), RECIPE);
    browser = await launchBrowser();
    page = await logInPage(browser, web.url, token);
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await env?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a run's page shows progress moving while it trains, then every stage committed with its charts", {
    timeout: 120_000,
  }, async () => {
    const file = join(dir, "data", "recipe.yaml");
    // pretrain waits for the page's event stream: on a fast machine its 160 steps end in about a
    // second, before a page opened after run.started could see a single progress event
    let pageListening!: () => void;
    const listening = new Promise<void>((resolve) => (pageListening = resolve));
    const done = runPipeline({
      recipe: await readRecipeFile(file),
      file,
      env,
      runId: WATCHED,
      timeoutMs: 110_000,
      threads: 1,
      logger: silentLogger,
      prepare: { pretrain: () => listening },
    });
    await expect.poll(() => web.runs.run(WATCHED) !== null, { timeout: 20_000 }).toBe(true);
    const stream = page.waitForResponse((r) => r.url().endsWith(`/runs/${WATCHED}/events`));
    await page.goto(`${web.url}/runs/${WATCHED}`);
    await stream;
    pageListening();
    // what the page shows for pretrain, sampled until the run ends: the step must be seen to move
    const seen = new Set<number>();
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      const text = (await page.textContent("#step-0 .progress").catch(() => "")) ?? "";
      const m = /step (\d+)\/160/.exec(text);
      if (m) seen.add(Number(m[1]));
      await page.waitForTimeout(150);
    }
    await done;
    expect(seen.size).toBeGreaterThanOrEqual(2);
    await page.locator("#run-state", { hasText: "completed" }).waitFor({ timeout: 10_000 });
    const rows = await page.$$eval("#steps tbody tr", (trs) =>
      trs.map((tr) => [tr.getAttribute("data-state"), tr.children[1]?.textContent, tr.children[2]?.textContent]),
    );
    expect(rows).toEqual([
      ["committed", "pretrain", "pretrain"],
      ["committed", "finetune", "finetune"],
    ]);
    expect(await page.locator("#timeline rect.tl-bar.committed").count()).toBe(2);
    for (const step of ["pretrain", "finetune"]) {
      const points = Number(
        await page.getAttribute(`figure[data-step="${step}"] svg[data-metric="loss"]`, "data-points"),
      );
      expect(points, step).toBeGreaterThan(1);
    }
    expect(await page.locator("#report-0 table.effect tr").count()).toBeGreaterThan(1);
    expect(await page.locator("#report-1 table.samples tbody tr").count()).toBeGreaterThan(0);
    if (where === "embedded") await page.screenshot({ path: join(DOCS, "run-page.png"), fullPage: true });

    await page.goto(web.url);
    const run = await page.$$eval(`#runs tr[data-run="${WATCHED}"] td`, (tds) => tds.map((td) => td.textContent));
    expect(run.slice(0, 4)).toEqual([WATCHED, "completed", "console-tiny", "2 / 2"]);
  });

  it("a checkpoint's page shows its lineage back to random init and serves its files as stored", async () => {
    const last = web.runs.run(WATCHED)!.completed!;
    await page.goto(`${web.url}/checkpoints?uri=${encodeURIComponent(last)}`);
    expect(await page.$$eval("#lineage .hop", (hops) => hops.map((h) => h.getAttribute("data-step")))).toEqual([
      "finetune",
      "pretrain",
    ]);
    expect(await page.locator("#lineage-graph rect.node").count()).toBe(2);
    expect(await page.textContent("#lineage")).toMatch(/task\.train\.jsonl sha256 [0-9a-f]{16}/);
    const href = await page.getAttribute('#downloads a:text("config.json")', "href");
    const res = await page.request.get(`${web.url}${href}`);
    expect(res.status()).toBe(200);
    expect(
      Buffer.from(await res.body()).equals(
        Buffer.from(await env.store.getBytes(keys.file(env.store.keyOf(last), "config.json"))),
      ),
    ).toBe(true);
    expect(
      (
        await page.request.get(`${web.url}/checkpoints/file?uri=${encodeURIComponent(last)}&name=manifest.json`)
      ).status(),
    ).toBe(400);
  });

  it("a dead-lettered run shows its reason; an admin's replay republishes the event once", async () => {
    const bad = join(dir, "data", "bad.yaml");
    await writeFile(join(dir, "data", "broken.train.jsonl"), '{"text": "fine"}\n{"text": \n');
    await copyFile(join(dir, "data", "general.val.jsonl"), join(dir, "data", "broken.val.jsonl"));
    await writeFile(
      bad,
      (await readFile(join(dir, "data", "recipe.yaml"), "utf8"))
        .replace("name: console-tiny", "name: console-bad")
        .replace("[general.train.jsonl, general.val.jsonl]", "[broken.train.jsonl, broken.val.jsonl]"),
    );
    const failed = await runPipeline({
      recipe: await readRecipeFile(bad),
      file: bad,
      env,
      runId: BROKEN,
      timeoutMs: 60_000,
      threads: 1,
      logger: silentLogger,
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(failed?.message).toMatch(/broken\.train\.jsonl:2/);
    const republished: number[] = [];
    await env.bus.watch(subjects.checkpointReady("pretrain"), (m) => republished.push(m.seq), { from: "new" });
    await page.goto(`${web.url}/dead-letters`);
    const row = page.locator("#dead-letters tr", { hasText: BROKEN });
    expect(await row.locator(".reason").textContent()).toMatch(/broken\.train\.jsonl:2/);
    await row.locator('button:text("Replay")').click();
    await page.waitForURL(/\/dead-letters$/);
    expect(await page.locator("#dead-letters tr", { hasText: BROKEN }).textContent()).toContain("replayed");
    await expect.poll(() => republished.length).toBe(1);
    const seq = await row.getAttribute("data-seq");
    const again = await page.request.post(`${web.url}/dead-letters/${seq}/replay`, {
      headers: { "x-csrf-token": (await page.getAttribute('meta[name="csrf-token"]', "content"))! },
    });
    expect(again.status()).toBe(409);
    expect(republished).toHaveLength(1);
  });
});
