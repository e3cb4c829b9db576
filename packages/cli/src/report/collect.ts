// Gathering a run's report from the store: the lineage of its last checkpoint (oldest first), each
// hop's manifest, and the stage-report.json the stage wrote beside its weights (verified against
// the manifest's sha256 like every other read).
import type { CheckpointRef } from "@baton/contracts";
import { lineage } from "@baton/runner";
import { type StageReport, storedStageReport } from "@baton/stage-lm";
import type { Store } from "@baton/store";

export interface ReportStage {
  /** Position in the pipeline. */
  cursor: number;
  step: string;
  stage: string;
  implementation: string;
  version: string;
  checkpoint: string;
  parent: string | null;
  datasets: { uri: string; sha256: string; records?: number; skipped?: number; errors?: string[] }[];
  metrics: Record<string, number>;
  effect: StageReport["effect"];
  samples: StageReport["samples"];
  seconds: number | null;
  curve: { step: number; loss: number }[];
  evals: StageReport["evals"];
}

export interface RunReport {
  runId: string;
  recipe: string;
  checkpoint: CheckpointRef | string;
  generatedAt: string;
  stages: ReportStage[];
}

/** The report of the run whose last checkpoint is `at`: one entry per hop of its lineage, in order. */
export async function collectReport(store: Store, at: CheckpointRef | string, recipe = ""): Promise<RunReport> {
  const hops = (await lineage(store, at)).reverse();
  const last = hops.at(-1);
  if (!last) throw new Error(`no checkpoint at ${typeof at === "string" ? at : at.uri}`);
  const stages: ReportStage[] = [];
  for (const hop of hops) {
    const m = hop.manifest;
    const sr = await storedStageReport(store, hop.uri, m);
    const counts = new Map((sr?.datasets ?? []).map((d) => [d.uri, d]));
    stages.push({
      cursor: m.cursor,
      step: m.step,
      stage: m.stage,
      implementation: m.implementation,
      version: m.version,
      checkpoint: hop.uri,
      parent: m.parent?.uri ?? null,
      datasets: m.datasets.map((d) => ({
        ...d,
        ...(counts.get(d.uri) && {
          records: counts.get(d.uri)!.records,
          skipped: counts.get(d.uri)!.skipped,
          errors: counts.get(d.uri)!.errors,
        }),
      })),
      metrics: m.metrics,
      effect: sr?.effect ?? {},
      samples: sr?.samples ?? [],
      seconds: sr?.seconds ?? null,
      curve: sr?.curve ?? [],
      evals: sr?.evals ?? [],
    });
  }
  return { runId: last.manifest.runId, recipe, checkpoint: at, generatedAt: new Date().toISOString(), stages };
}
