import type { CheckpointRef, Recipe } from "@baton/contracts";
import { BatonError, type BatonEvent, createEvent, keys, msgId, parseRecipe } from "@baton/contracts";
import type { Store } from "@baton/store";
import { sha256Hex } from "@baton/store";
import { readManifest } from "./checkpoint/checkpoint.ts";

/** How a run starts: which recipe, from which of its steps, on which checkpoint. */
export interface RunStart {
  runId: string;
  recipe: Recipe;
  /**
   * Run the recipe's tail from this step on (e.g. "cpt": cpt -> ... -> last step). The routing slip
   * holds only the tail, so the run is complete when its last step commits. Default: the first step.
   */
  from?: string;
  /** Input checkpoint of the first step run; null/absent = random init. */
  checkpoint?: CheckpointRef | null;
  /** Producer, e.g. baton://cli/run or baton://trigger/<host>. */
  source?: string;
}

/**
 * The ONE place a run's first event is built (baton run, the embedded pipeline, the retraining
 * trigger): checkpoint.ready at cursor 0 of the routing slip, with a deterministic id, so starting the
 * same run twice publishes the same event (deduped by Nats-Msg-Id, then answered by the ledger).
 */
export function firstEvent(start: RunStart): BatonEvent<"dev.baton.checkpoint.ready"> {
  const recipe = parseRecipe(start.recipe, `for run ${start.runId}`);
  const pipeline = tail(recipe, start.from);
  const first = pipeline[0]!;
  return createEvent({
    type: "dev.baton.checkpoint.ready",
    id: msgId(start.runId, 0, "dev.baton.checkpoint.ready"),
    source: start.source ?? "baton://cli",
    subject: first.name,
    data: {
      runId: start.runId,
      recipe: recipe.name,
      ...(recipe.seed !== undefined ? { seed: recipe.seed } : {}),
      cursor: 0,
      pipeline,
      checkpoint: start.checkpoint ?? null,
    },
  });
}

/** The steps from `from` to the end; an unknown step is CONFIG_INVALID listing the recipe's steps. */
export function tail(recipe: Recipe, from?: string): Recipe["steps"] {
  if (from === undefined) return recipe.steps;
  const i = recipe.steps.findIndex((s) => s.name === from);
  if (i < 0) {
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `recipe "${recipe.name}" has no step "${from}" to start from; its steps are ${recipe.steps.map((s) => s.name).join(", ")}`,
    );
  }
  return recipe.steps.slice(i);
}

/**
 * A ref to a committed checkpoint from its folder URI alone (what a person types): its manifest is
 * read, checked against the schema, and its digest becomes the ref's manifestSha256.
 */
export async function checkpointAt(store: Store, uri: string): Promise<CheckpointRef> {
  const folder = uri.endsWith("/") ? uri : `${uri}/`;
  await readManifest(store, folder); // CHECKPOINT_MISSING / MANIFEST_INVALID with the URI in the message
  const bytes = await store.getBytes(keys.manifest(store.keyOf(folder)));
  return { uri: folder, manifestSha256: sha256Hex(bytes) };
}
