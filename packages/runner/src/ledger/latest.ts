import type { CheckpointRef } from "@baton/contracts";
import { BatonError } from "@baton/contracts";
import type { LatestCheckpoint, Ledger } from "./ledger.ts";

/**
 * The checkpoint retraining starts from: the newest commit of `step` in runs of the recipe named
 * `pipeline`. Throws CHECKPOINT_MISSING, saying what to run, when that step never committed.
 */
export async function latestCheckpoint(
  ledger: Pick<Ledger, "latest">,
  pipeline: string,
  step: string,
): Promise<CheckpointRef> {
  const pointer = await ledger.latest(pipeline, step);
  if (!pointer) {
    throw BatonError.retry(
      "CHECKPOINT_MISSING",
      `no checkpoint of step "${step}" of pipeline "${pipeline}" has been committed yet: run recipe "${pipeline}" through step "${step}" first (baton run), then retry`,
    );
  }
  return pointer.checkpoint;
}

export function sortPointers(pointers: LatestCheckpoint[]): LatestCheckpoint[] {
  return pointers.sort((a, b) =>
    a.pipeline === b.pipeline ? a.step.localeCompare(b.step) : a.pipeline.localeCompare(b.pipeline),
  );
}
