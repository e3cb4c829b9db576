// A whole recipe on one machine: every step served in this process (over whatever bus and store the
// environment gives: the memory bus and a local folder by default), the run started, and awaited.
// The relay is the same one the distributed services run; only the transport is local.

import type { CheckpointRef, StageProgressData } from "@baton/contracts";
import { decodeEvent, type Recipe, type RunCompletedData, subjects } from "@baton/contracts";
import {
  awaitRun,
  type Logger,
  type StageContext,
  type StageEnv,
  type StageService,
  serveStage,
  startRun,
} from "@baton/runner";
import { IMPLEMENTATIONS, resolveSteps } from "./registry.ts";

export interface PipelineOptions {
  recipe: Recipe;
  /** The recipe file, for error messages. */
  file: string;
  env: StageEnv;
  runId: string;
  /** step name -> implementation name (default: the stage's own). */
  choices?: Record<string, string>;
  timeoutMs: number;
  threads?: number;
  workRoot?: string;
  logger?: Logger;
  onProgress?(p: StageProgressData): void;
  /** step name -> work done in that step's attempt before it trains (the demo ranks the input's answers there) */
  prepare?: Record<string, (ctx: StageContext) => Promise<void>>;
  /** Run only the recipe's tail from this step, on this checkpoint (see firstEvent in @baton/runner). */
  from?: string;
  checkpoint?: CheckpointRef | null;
}

/** Serves every step, starts the run and resolves with run.completed (rejects with the dead-letter reason). */
export async function runPipeline(o: PipelineOptions): Promise<RunCompletedData> {
  const steps = resolveSteps(o.recipe, o.file, o.choices);
  const services: StageService[] = [];
  const unwatch = o.onProgress
    ? await o.env.bus.watch(
        subjects.allStageProgress(),
        (m) => {
          try {
            const e = decodeEvent(m.data, m.subject);
            if (e.type === "dev.baton.stage.progress" && e.data.runId === o.runId) o.onProgress?.(e.data);
          } catch {
            // another run's or a malformed event: not ours to report
          }
        },
        { from: "new" },
      )
    : null;
  try {
    const served = new Set<string>();
    for (const s of steps) {
      if (served.has(s.step)) continue;
      served.add(s.step);
      const impl = IMPLEMENTATIONS[s.implementation]!;
      const stage = (await impl.load()).createStage({
        store: o.env.store,
        dataAccess: o.env.dataAccess,
        ...(o.threads && { threads: o.threads }),
      });
      const before = o.prepare?.[s.step];
      const def = before
        ? {
            ...stage,
            train: async (ctx: StageContext) => {
              await before(ctx);
              return stage.train(ctx);
            },
          }
        : stage;
      services.push(
        serveStage({
          ...def,
          step: s.step,
          bus: o.env.bus,
          store: o.env.store,
          ledger: o.env.ledger,
          retry: o.env.retry,
          dataAccess: o.env.dataAccess,
          pullExpiresMs: 500,
          progressIntervalMs: 250,
          ...(o.workRoot && { workRoot: o.workRoot }),
          ...(o.logger && { logger: o.logger }),
        }),
      );
    }
    const done = awaitRun(o.env.bus, o.runId, { timeoutMs: o.timeoutMs });
    await startRun(o.env.bus, {
      runId: o.runId,
      recipe: o.recipe,
      source: "baton://cli/run",
      ...(o.from !== undefined && { from: o.from }),
      ...(o.checkpoint && { checkpoint: o.checkpoint }),
    });
    return await done;
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await unwatch?.();
  }
}
