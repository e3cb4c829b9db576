// Every campaign of this app: definitions, sampled items and judgements live in the store (one
// object per submission, so nothing is overwritten), with an index in memory. Submissions to one
// campaign go through one queue: the checks (submission id unseen, item shown to this rater and not
// judged by them, count not reached) and the write happen as one step, so concurrent raters neither
// lose nor duplicate a ranking and the export happens once.
import { randomInt } from "node:crypto";
import type { Bus } from "@baton/bus";
import { keys } from "@baton/contracts";
import type { Logger } from "@baton/runner";
import type { Store } from "@baton/store";
import { type Agreement, agreement } from "./agreement.ts";
import {
  type Campaign,
  type CampaignItem,
  type CampaignState,
  type Judgement,
  type JudgementKind,
  type RankingRecord,
  SUBMISSION_ID,
} from "./campaign.ts";
import { type CampaignExport, exportCampaign, readExport } from "./export.ts";
import { checkRanking } from "./ranking-check.ts";
import { sampleItems } from "./sampling.ts";

/** A refused request, with the HTTP status that says why. */
export class CampaignError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 422,
    message: string,
  ) {
    super(message);
    this.name = "CampaignError";
  }
}

export interface Submission {
  submissionId: unknown;
  item: unknown;
  action: unknown;
  order?: unknown;
  ties?: unknown;
}

export interface Progress {
  rankings: number;
  wanted: number;
  /** items this rater has judged (ranked, skipped or flagged) */
  mine: number;
  items: number;
}

export interface CampaignSummary {
  campaign: Campaign;
  state: CampaignState;
  items: number;
  rankings: number;
  raters: { rater: string; rankings: number; skips: number; flags: number }[];
  agreement: Agreement;
}

interface Loaded {
  campaign: Campaign;
  state: CampaignState;
  items: CampaignItem[];
  judgements: Map<string, Judgement>;
  /** `${rater}\u0000${item}` -> the response ids in the order shown to that rater */
  shown: Map<string, string[]>;
  queue: Promise<unknown>;
  /** the background sampling of a campaign created by this app, until it ends */
  sampling?: Promise<void>;
}

const encode = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
const decode = <T>(b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as T;

export class CampaignBook {
  private readonly campaigns = new Map<string, Loaded>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly threads = 2,
  ) {}

  /** Reads every campaign the store holds; finishes an export a crash interrupted. */
  async load(): Promise<void> {
    const files = (await this.store.list(keys.campaigns())).filter((k) => k.endsWith("/campaign.json"));
    for (const key of files) {
      const campaign = decode<Campaign>(await this.store.getBytes(key));
      const items = (await this.store.head(keys.campaignItems(campaign.id)))
        ? decode<CampaignItem[]>(await this.store.getBytes(keys.campaignItems(campaign.id)))
        : null;
      const judgements = new Map<string, Judgement>();
      for (const k of await this.store.list(keys.judgements(campaign.id))) {
        const j = decode<Judgement>(await this.store.getBytes(k));
        judgements.set(j.submissionId, j);
      }
      const state: CampaignState =
        items === null
          ? {
              phase: "failed",
              message: "sampling did not finish (the app stopped while it ran); create the campaign again",
            }
          : { phase: "open" };
      const loaded: Loaded = {
        campaign,
        state,
        items: items ?? [],
        judgements,
        shown: new Map(),
        queue: Promise.resolve(),
      };
      this.campaigns.set(campaign.id, loaded);
      if (items !== null) await this.completeIfDone(loaded);
    }
  }

  list(): CampaignSummary[] {
    return [...this.campaigns.keys()].sort().map((id) => this.summary(id));
  }

  /** Stores the campaign and samples its items in the background; `sampled` settles when that ends. */
  async create(campaign: Campaign, prompts: readonly string[]): Promise<{ sampled: Promise<void> }> {
    if (this.campaigns.has(campaign.id) || (await this.store.head(keys.campaign(campaign.id))))
      throw new CampaignError(409, `campaign ${campaign.id} exists already; pick another id`);
    await this.store.putBytes(keys.campaign(campaign.id), encode(campaign));
    const loaded: Loaded = {
      campaign,
      state: { phase: "sampling" },
      items: [],
      judgements: new Map(),
      shown: new Map(),
      queue: Promise.resolve(),
    };
    this.campaigns.set(campaign.id, loaded);
    const sampled = sampleItems(this.store, campaign, prompts, this.threads)
      .then(async (items) => {
        if (items.length === 0)
          throw new Error(
            `no prompt got two non-empty responses from ${campaign.checkpoint.uri}; check the checkpoint and the prompts`,
          );
        await this.store.putBytes(keys.campaignItems(campaign.id), encode(items));
        loaded.items = items;
        loaded.state = { phase: "open" };
        this.log.info("campaign sampled", { campaign: campaign.id, items: items.length, k: campaign.k });
      })
      .catch((err: Error) => {
        loaded.state = { phase: "failed", message: err.message };
        this.log.error("campaign sampling failed", { campaign: campaign.id, error: err.message });
      });
    loaded.sampling = sampled;
    return { sampled };
  }

  state(id: string): CampaignState {
    return this.get(id).state;
  }

  campaign(id: string): Campaign {
    return this.get(id).campaign;
  }

  /** The next item for a rater (the first they have not judged, so raters overlap), its responses in an order drawn for them once. */
  next(id: string, rater: string): { item: CampaignItem; order: { id: string; text: string }[] } | null {
    const c = this.get(id);
    if (c.state.phase !== "open") return null;
    const judged = this.judgedBy(c, rater);
    const item = c.items.find((i) => !judged.has(i.index));
    if (!item) return null;
    const key = `${rater}\u0000${item.index}`;
    let ids = c.shown.get(key);
    if (!ids) {
      ids = item.responses.map((r) => r.id);
      for (let i = ids.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [ids[i], ids[j]] = [ids[j]!, ids[i]!];
      }
      c.shown.set(key, ids);
    }
    return { item, order: ids.map((rid) => item.responses.find((r) => r.id === rid)!) };
  }

  progress(id: string, rater: string): Progress {
    const c = this.get(id);
    return {
      rankings: this.rankings(c).length,
      wanted: c.campaign.wanted,
      mine: this.judgedBy(c, rater).size,
      items: c.items.length,
    };
  }

  /** Records one submission (ranking, skip or flag) or throws a CampaignError saying why not. */
  submit(id: string, rater: string, s: Submission): Promise<{ judgement: Judgement; progress: Progress }> {
    const c = this.get(id);
    const run = c.queue.then(() => this.record(c, rater, s));
    c.queue = run.catch(() => undefined);
    return run;
  }

  summary(id: string): CampaignSummary {
    const c = this.get(id);
    const raters = new Map<string, { rater: string; rankings: number; skips: number; flags: number }>();
    const byPrompt = new Map<number, RankingRecord[]>();
    for (const j of c.judgements.values()) {
      const r = raters.get(j.rater) ?? { rater: j.rater, rankings: 0, skips: 0, flags: 0 };
      if (j.kind === "ranking") r.rankings++;
      else if (j.kind === "skip") r.skips++;
      else r.flags++;
      raters.set(j.rater, r);
      if (j.record) byPrompt.set(j.item, [...(byPrompt.get(j.item) ?? []), j.record]);
    }
    return {
      campaign: c.campaign,
      state: c.state,
      items: c.items.length,
      rankings: this.rankings(c).length,
      raters: [...raters.values()].sort((a, b) => a.rater.localeCompare(b.rater)),
      agreement: agreement(byPrompt),
    };
  }

  /** Waits for every sampling and queued submission (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.campaigns.values()].flatMap((c) => [c.queue, c.sampling]));
  }

  private async record(c: Loaded, rater: string, s: Submission): Promise<{ judgement: Judgement; progress: Progress }> {
    const submissionId = s.submissionId;
    if (typeof submissionId !== "string" || !SUBMISSION_ID.test(submissionId))
      throw new CampaignError(
        400,
        `"submissionId" must be 8 to 64 letters, digits, '-' or '_' (the page gives one), got ${JSON.stringify(submissionId)?.slice(0, 80)}`,
      );
    const kinds: Record<string, JudgementKind> = { rank: "ranking", skip: "skip", flag: "flag" };
    const kind = typeof s.action === "string" ? kinds[s.action] : undefined;
    if (!kind)
      throw new CampaignError(
        400,
        `"action" must be "rank", "skip" or "flag", got ${JSON.stringify(s.action)?.slice(0, 80)}`,
      );
    if (!Number.isInteger(s.item))
      throw new CampaignError(
        400,
        `"item" must be the integer item number the page shows, got ${JSON.stringify(s.item)?.slice(0, 80)}`,
      );
    const index = s.item as number;
    const earlier = c.judgements.get(submissionId);
    if (earlier)
      throw new CampaignError(
        409,
        `submission ${submissionId} was already recorded (${earlier.kind} of item ${earlier.item} by ${earlier.rater === rater ? "you" : "another rater"}); nothing changed`,
      );
    if (c.state.phase === "complete")
      throw new CampaignError(
        409,
        `campaign ${c.campaign.id} is complete (${c.campaign.wanted} rankings); thank you, nothing more is needed`,
      );
    if (c.state.phase !== "open")
      throw new CampaignError(
        409,
        `campaign ${c.campaign.id} is not open for ranking (${c.state.phase}); wait for sampling to finish`,
      );
    const shown = c.shown.get(`${rater}\u0000${index}`);
    const item = c.items[index];
    if (!shown || !item)
      throw new CampaignError(
        409,
        `item ${index} of campaign ${c.campaign.id} was not shown to you; reload /rate/${c.campaign.id} to get your next prompt`,
      );
    if (this.judgedBy(c, rater).has(index))
      throw new CampaignError(
        409,
        `you already judged item ${index} of campaign ${c.campaign.id}; reload /rate/${c.campaign.id} for the next one`,
      );
    let record: RankingRecord | undefined;
    if (kind === "ranking") {
      const checked = checkRanking(
        shown,
        item.responses.map((r) => r.id),
        s.order,
        s.ties,
      );
      if (typeof checked === "string") throw new CampaignError(422, `item ${index}: ${checked}`);
      record = {
        prompt: item.prompt,
        responses: item.responses.map((r) => r.text),
        ranking: checked.ranking,
        ...(checked.ties.length > 0 ? { ties: checked.ties } : {}),
        rater,
        checkpoint: c.campaign.checkpoint.uri,
      };
    }
    const judgement: Judgement = {
      submissionId,
      kind,
      rater,
      item: index,
      at: new Date().toISOString(),
      ...(record ? { record } : {}),
    };
    await this.store.putBytes(keys.judgement(c.campaign.id, submissionId), encode(judgement));
    c.judgements.set(submissionId, judgement);
    c.shown.delete(`${rater}\u0000${index}`);
    await this.completeIfDone(c);
    return { judgement, progress: this.progress(c.campaign.id, rater) };
  }

  private async completeIfDone(c: Loaded): Promise<void> {
    if (this.rankings(c).length < c.campaign.wanted) return;
    const done: CampaignExport =
      (await readExport(this.store, c.campaign.id)) ??
      (await exportCampaign(this.store, this.bus, c.campaign, [...c.judgements.values()]));
    c.state = { phase: "complete", export: done };
    this.log.info("campaign complete: rankings exported, feedback.ready published", {
      campaign: c.campaign.id,
      uri: done.uri,
      rankings: done.count,
    });
  }

  private rankings(c: Loaded): Judgement[] {
    return [...c.judgements.values()].filter((j) => j.kind === "ranking");
  }

  private judgedBy(c: Loaded, rater: string): Set<number> {
    return new Set([...c.judgements.values()].filter((j) => j.rater === rater).map((j) => j.item));
  }

  private get(id: string): Loaded {
    const c = this.campaigns.get(id);
    if (!c) throw new CampaignError(404, `no campaign ${JSON.stringify(id)}; see /rate for the campaigns there are`);
    return c;
  }
}
