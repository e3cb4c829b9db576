// A campaign's responses: the checkpoint is downloaded from the store (every file checked against
// its manifest), K responses per prompt are sampled with the KV-cache sampler, and each response
// gets an opaque id.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CheckpointRef, keys } from "@baton/contracts";
import { openCheckpoint, readManifest } from "@baton/runner";
import { sampleResponses } from "@baton/stage-lm";
import { type Store, sha256Hex } from "@baton/store";
import type { Campaign, CampaignItem } from "./campaign.ts";

/** The ref of a committed checkpoint folder: its manifest's digest, read from the store. */
export async function checkpointRefOf(store: Store, uri: string): Promise<CheckpointRef> {
  const folder = uri.endsWith("/") ? uri : `${uri}/`;
  await readManifest(store, folder); // a clear error when it is no committed checkpoint
  const bytes = await store.getBytes(keys.manifest(store.keyOf(folder)));
  return { uri: folder, manifestSha256: sha256Hex(bytes) };
}

export async function sampleItems(
  store: Store,
  c: Campaign,
  prompts: readonly string[],
  threads = 2,
): Promise<CampaignItem[]> {
  const work = await mkdtemp(join(tmpdir(), `baton-campaign-${c.id}-`));
  try {
    const opened = await openCheckpoint(store, c.checkpoint, join(work, "checkpoint"));
    const sampled = await sampleResponses(opened.dir, prompts, {
      k: c.k,
      ...c.sampling,
      threads,
      what: `campaign ${c.id}`,
    });
    return sampled.map((s, index) => ({
      index,
      prompt: s.prompt,
      responses: s.responses.map((r) => ({ id: `r${randomBytes(6).toString("hex")}`, text: r.text })),
    }));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
