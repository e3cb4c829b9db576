// The ranking page in a real browser (chromium via playwright-core) on real services: a rater ranks
// three prompts (one by dragging, one by keyboard alone, one with a tie) and skips one; a second rater
// ranks the same prompts; the stored records are exactly what the page showed; the admin sees the
// counts and the agreement; the campaign reaches its count, feedback.ready is emitted once, and the
// retraining trigger turns it into a run whose reward step trains on the export.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BatonEvent, decodeEvent, keys, subjects } from "@baton/contracts";
import { awaitRun, readManifest, type StageService, serveStage, silentLogger } from "@baton/runner";
import { createStage as createRewardStage } from "@baton/stage-reward";
import { loadRules, serveTrigger, type TriggerService } from "@baton/trigger";
import { agreement, type Judgement, type RankingRecord } from "@baton/web";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { judged, launchBrowser, logInPage, shownResponses } from "./browser.ts";
import { startWebWorld, type WebWorld } from "./web-fixture.ts";

const DOCS = fileURLToPath(new URL("../../docs/", import.meta.url));
// the campaign id of this run: the store may be a shared one (S3_ENDPOINT from the environment)
const FIRST = `first-${Date.now().toString(36)}`;
const PROMPTS = ["say hi", "count to 3", "name a colour", "rev cat", "spell dog"];

describe("ranking page in a browser", () => {
  let w: WebWorld;
  let browser: Browser;
  let rita: Page;
  const feedback: BatonEvent[] = [];
  let trigger: TriggerService;
  let reward: StageService;
  const triggered: string[] = [];
  /** what rita's page showed, in the order she left it, per item */
  const ritaOrders = new Map<number, { text: string; tied: boolean }[]>();

  const stored = async (): Promise<Judgement[]> =>
    Promise.all(
      (await w.env.store.list(keys.judgements(FIRST))).map(
        async (k) => JSON.parse(new TextDecoder().decode(await w.env.store.getBytes(k))) as Judgement,
      ),
    );
  const inOrder = (r: RankingRecord) => r.ranking.map((i) => r.responses[i]);
  const itemOf = async (page: Page) => Number(await page.getAttribute("#task", "data-item"));

  beforeAll(async () => {
    w = await startWebWorld();
    await w.env.bus.watch(subjects.feedbackReady(), (m) => feedback.push(decodeEvent(m.data, m.subject)), {
      from: "all",
    });
    await w.user("ada", "admin");
    await w.user("rita", "rater");
    await w.user("rob", "rater");
    browser = await launchBrowser();
    rita = await logInPage(browser, w.web.url, w.tokens.get("rita")!);
    await startRetraining();
  });

  /**
   * The cluster side of the loop: a recipe whose reward step trains on rankings plus a held-out set
   * in the store, a trigger rule that runs it on feedback.ready from the checkpoint the rankings
   * ranked (the export replaces the step's rankings.train file), and a reward stage service.
   */
  async function startRetraining(): Promise<void> {
    const store = w.env.store;
    const held = [
      ["tac", "cat", "no"],
      ["god", "dog", "x"],
      ["ih", "hi", "?"],
    ].map((responses, i) => ({ prompt: ["rev cat", "rev dog", "rev hi"][i], responses, ranking: [0, 1, 2] }));
    const jsonl = (rows: unknown[]) => new TextEncoder().encode(`${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const train = store.uri(keys.dataset("feedback-base", "rankings.train.jsonl"));
    const test = store.uri(keys.dataset("feedback-base", "rankings.test.jsonl"));
    await store.putBytes(store.keyOf(train), jsonl(held));
    await store.putBytes(store.keyOf(test), jsonl(held));
    const rewardConfig = {
      train: { steps: 3, batchSize: 2, warmupSteps: 1, evalEvery: 3, snapshotEvery: 0 },
      eval: { maxGroups: 2, samples: 1 },
    };
    await writeFile(
      join(w.dir, "reward.yaml"),
      stringify({
        name: "web-feedback",
        seed: 2,
        steps: [{ name: "reward", stage: "reward", config: rewardConfig, data: [train, test] }],
      }),
    );
    await writeFile(
      join(w.dir, "rules.yaml"),
      stringify({
        window: "300ms",
        rules: [
          {
            name: "rankings",
            on: { feedback: {} },
            recipe: "reward.yaml",
            from: "reward",
            checkpoint: "event",
            data: { reward: "rankings\\.train" },
          },
        ],
      }),
    );
    trigger = await serveTrigger({
      bus: w.env.bus,
      ledger: w.env.ledger,
      rules: await loadRules(join(w.dir, "rules.yaml")),
      logger: silentLogger,
      tickMs: 100,
      onRunStarted: (r) => r.uris.includes(store.uri(keys.campaignExport(FIRST))) && triggered.push(r.runId),
    });
    const def = createRewardStage({ store, dataAccess: w.env.dataAccess, threads: 1 });
    reward = serveStage({
      ...def,
      step: "reward",
      bus: w.env.bus,
      store,
      ledger: w.env.ledger,
      retry: w.env.retry,
      dataAccess: w.env.dataAccess,
      pullExpiresMs: 500,
      logger: silentLogger,
    });
  }

  it("admin: creates a campaign with the form (checkpoint, prompt file, K, count, guidelines); its responses are sampled", {
    timeout: 120_000,
  }, async () => {
    const admin = await logInPage(browser, w.web.url, w.tokens.get("ada")!);
    await admin.goto(`${w.web.url}/rate`);
    await admin.click('a[href="/rate/new"]');
    const prompts = join(w.dir, "prompts.jsonl");
    await writeFile(
      prompts,
      `${PROMPTS.map((p) => JSON.stringify({ instruction: p, input: "", output: "x" })).join("\n")}\n`,
    );
    await admin.fill('input[name="id"]', FIRST);
    await admin.fill('input[name="checkpoint"]', w.checkpointUri);
    await admin.setInputFiles('input[name="prompts"]', prompts);
    await admin.fill('input[name="k"]', "3");
    await admin.fill('input[name="wanted"]', "6");
    await admin.fill('input[name="maxTokens"]', "6");
    await admin.fill(
      'textarea[name="guidelines"]',
      "Put the most sensible answer first. Tie answers that are equally good.",
    );
    await admin.click('button:text("Create and sample")');
    await admin.waitForURL(new RegExp(`/rate/${FIRST}/summary$`));
    await expect.poll(() => w.web.campaigns.state(FIRST).phase, { timeout: 30_000 }).toBe("open");
    const items = JSON.parse(new TextDecoder().decode(await w.env.store.getBytes(keys.campaignItems(FIRST)))) as {
      prompt: string;
      responses: unknown[];
    }[];
    expect(items.map((i) => i.prompt)).toEqual(PROMPTS);
    expect(items.every((i) => i.responses.length === 3)).toBe(true);
    await admin.close();
  });
  afterAll(async () => {
    await trigger?.stop();
    await reward?.stop();
    await browser?.close();
    await w?.close();
  });

  it("rater: one prompt ranked by dragging, one by keyboard alone, one with a tie, one skipped, one flagged; the store holds exactly those", {
    timeout: 120_000,
  }, async () => {
    await rita.goto(`${w.web.url}/rate`);
    await rita.click(`a[href="/rate/${FIRST}"]`);
    await rita.waitForSelector("#task");
    expect(await rita.textContent(".guidelines")).toContain("Put the most sensible answer first");
    expect(await rita.textContent("#progress")).toContain("0 of 6 rankings");

    // 1. drag the last response to the top
    const item1 = await itemOf(rita);
    const before = await shownResponses(rita);
    const last = (await rita.$("#responses > li:last-child"))!.boundingBox();
    const first = (await rita.$("#responses > li:first-child"))!.boundingBox();
    const [from, to] = [(await last)!, (await first)!];
    await rita.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await rita.mouse.down();
    await rita.mouse.move(to.x + to.width / 2, to.y + 4, { steps: 12 });
    await rita.mouse.move(to.x + to.width / 2, to.y + 2, { steps: 4 });
    await rita.mouse.up();
    const dragged = await shownResponses(rita);
    expect(dragged.map((r) => r.id)).toEqual([before[2]!.id, before[0]!.id, before[1]!.id]);
    ritaOrders.set(item1, dragged);
    await rita.click("#submit");
    await judged(rita, 1);

    // 2. keyboard alone: focus the first, move it down one, focus the last, place it first, submit
    const item2 = await itemOf(rita);
    const shown2 = await shownResponses(rita);
    await rita.keyboard.press("ArrowDown");
    await rita.keyboard.press("Alt+ArrowDown");
    await rita.keyboard.press("ArrowDown");
    await rita.keyboard.press("1");
    const keyed = await shownResponses(rita);
    expect(keyed.map((r) => r.id)).toEqual([shown2[2]!.id, shown2[1]!.id, shown2[0]!.id]);
    ritaOrders.set(item2, keyed);
    await rita.keyboard.press("Enter");
    await judged(rita, 2);

    // 3. a tie: the second response is as good as the first
    const item3 = await itemOf(rita);
    await rita.keyboard.press("ArrowDown");
    await rita.keyboard.press("ArrowDown");
    await rita.keyboard.press("t");
    const tied = await shownResponses(rita);
    expect(tied.map((r) => r.tied)).toEqual([false, true, false]);
    expect(await rita.isVisible("#responses > li:nth-child(2) .tie-mark")).toBe(true);
    ritaOrders.set(item3, tied);
    await mkdir(DOCS, { recursive: true });
    await rita.screenshot({ path: join(DOCS, "ranking-page.png"), fullPage: true });
    await rita.click("#submit");
    await judged(rita, 3);

    // 4. skip
    const item4 = await itemOf(rita);
    await rita.keyboard.press("s");
    await judged(rita, 4);
    expect(await rita.textContent("#progress")).toContain("3 of 6 rankings");

    // 5. flag the last prompt as unusable: then nothing is left for her
    const item5 = await itemOf(rita);
    await rita.click("#flag");
    await rita.waitForSelector("#done");
    expect(await rita.textContent("#done")).toContain("judged every prompt");

    const mine = (await stored()).filter((j) => j.rater === "rita");
    expect(mine.map((j) => j.kind).sort()).toEqual(["flag", "ranking", "ranking", "ranking", "skip"]);
    expect(mine.find((j) => j.kind === "skip")!.item).toBe(item4);
    expect(mine.find((j) => j.kind === "flag")!.item).toBe(item5);
    for (const j of mine.filter((x) => x.kind === "ranking")) {
      const shown = ritaOrders.get(j.item)!;
      expect(inOrder(j.record!)).toEqual(shown.map((r) => r.text));
      expect(j.record!.ties ?? []).toEqual(shown.flatMap((r, p) => (r.tied ? [p] : [])));
      expect(j.record).toMatchObject({ rater: "rita", checkpoint: w.checkpointUri, prompt: PROMPTS[j.item] });
    }
    expect(mine.find((j) => j.item === item3)!.record!.ties).toEqual([1]);
  });

  it("a second rater's rankings complete the campaign: feedback.ready once, the admin sees counts and agreement", {
    timeout: 120_000,
  }, async () => {
    const rob = await logInPage(browser, w.web.url, w.tokens.get("rob")!);
    await rob.goto(`${w.web.url}/rate/${FIRST}`);
    for (let n = 1; n <= 3; n++) {
      await rob.waitForSelector("#task");
      await rob.keyboard.press("ArrowDown");
      await rob.keyboard.press("3");
      await rob.keyboard.press("Enter");
      await judged(rob, n);
    }
    await rob.waitForSelector("#done");
    expect(await rob.textContent("#done")).toContain("campaign is complete");

    const all = await stored();
    expect(all.filter((j) => j.kind === "ranking")).toHaveLength(6);
    await expect.poll(() => feedback.filter((e) => e.subject === FIRST).length).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(feedback.filter((e) => e.subject === FIRST)).toHaveLength(1);

    const admin = await logInPage(browser, w.web.url, w.tokens.get("ada")!);
    await admin.goto(`${w.web.url}/rate/${FIRST}/summary`);
    expect(await admin.textContent("#state")).toBe("complete");
    expect(await admin.textContent("#rankings")).toBe("6 / 6");
    const rows = await admin.$$eval("#raters tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
    );
    expect(rows).toEqual([
      ["rita", "3", "1", "1"],
      ["rob", "3", "0", "0"],
    ]);
    const byItem = new Map<number, RankingRecord[]>();
    for (const j of all.filter((x) => x.record)) byItem.set(j.item, [...(byItem.get(j.item) ?? []), j.record!]);
    const expected = agreement(byItem);
    expect(expected.prompts).toBe(3);
    expect(await admin.textContent("#pairwise")).toBe(expected.pairwise.toFixed(2));
    expect(await admin.textContent("#tau")).toBe(expected.kendallTau.toFixed(2));
    expect(await admin.textContent("#export")).toContain(keys.campaignExport(FIRST));
  });

  it("the export is one dataset of the six rankings; the trigger runs the reward step on it from the ranked checkpoint", {
    timeout: 90_000,
  }, async () => {
    const event = feedback.find((e) => e.subject === FIRST)!;
    const data = event.data as { uri: string; sha256: string; rankings: number; checkpoint: { uri: string } };
    expect(data).toMatchObject({ rankings: 6, checkpoint: { uri: w.checkpointUri } });
    const bytes = await w.env.store.getBytes(w.env.store.keyOf(data.uri), { sha256: data.sha256 });
    expect(new TextDecoder().decode(bytes).trim().split("\n")).toHaveLength(6);

    await expect.poll(() => triggered.length, { timeout: 30_000 }).toBe(1);
    const completed = await awaitRun(w.env.bus, triggered[0]!, { timeoutMs: 80_000 });
    const manifest = await readManifest(w.env.store, completed.checkpoint);
    expect(manifest.stage).toBe("reward");
    expect(manifest.parent?.uri).toBe(w.checkpointUri);
    expect(manifest.datasets).toContainEqual({ uri: data.uri, sha256: data.sha256 });
    expect(manifest.metrics.pairwise_accuracy).toBeGreaterThanOrEqual(0);
    expect(manifest.metrics.pairwise_accuracy).toBeLessThanOrEqual(1);
  });
});
