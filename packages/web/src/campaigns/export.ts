// A complete campaign's rankings as one dataset (JSONL of ranking records, in item then rater order),
// announced once with feedback.ready: the event id is the campaign's, so even a second announcement
// after a restart is the same event, and the exported.json marker stops this app from making one.
import { type Bus, publishEvent } from "@baton/bus";
import { keys } from "@baton/contracts";
import type { Store } from "@baton/store";
import type { Campaign, Judgement } from "./campaign.ts";

export interface CampaignExport {
  uri: string;
  sha256: string;
  count: number;
}

export async function exportCampaign(
  store: Store,
  bus: Bus,
  c: Campaign,
  judgements: readonly Judgement[],
): Promise<CampaignExport> {
  const rankings = judgements
    .filter((j) => j.kind === "ranking" && j.record)
    .sort((a, b) => a.item - b.item || a.rater.localeCompare(b.rater))
    .map((j) => j.record!);
  const bytes = new TextEncoder().encode(`${rankings.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const key = keys.campaignExport(c.id);
  const put = await store.putBytes(key, bytes);
  const done: CampaignExport = { uri: store.uri(key), sha256: put.sha256, count: rankings.length };
  await publishEvent(bus, {
    type: "dev.baton.feedback.ready",
    id: `feedback:${c.id}`,
    source: "baton://web/campaigns",
    subject: c.id,
    data: { uri: done.uri, sha256: done.sha256, rankings: done.count, checkpoint: c.checkpoint },
  });
  await store.putBytes(
    keys.campaignExported(c.id),
    new TextEncoder().encode(`${JSON.stringify({ ...done, at: new Date().toISOString() }, null, 2)}\n`),
  );
  return done;
}

export async function readExport(store: Store, id: string): Promise<CampaignExport | null> {
  const key = keys.campaignExported(id);
  if (!(await store.head(key))) return null;
  return JSON.parse(new TextDecoder().decode(await store.getBytes(key))) as CampaignExport;
}
