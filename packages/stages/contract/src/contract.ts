// stageContract(): the suite every stage implementation runs, so that swapping one implementation of
// a step for another is safe. It checks what the relay and the next stage rely on:
//   - identity: the stage kind it serves, an implementation name and version for the manifest
//   - output: a loadable GPT checkpoint (HF files + stage-report.json) with the input's architecture
//     and tokenizer, finite metrics, and every dataset of the step recorded with the sha256 of its bytes
//   - progress: reported with increasing train steps; evaluations from step 0 (the "before" value)
//   - bad input: an unknown config key and a missing dataset are fatal errors that say where
//   - SIGTERM: an abort stops at a step boundary with a retryable error after a snapshot, and the run
//     resumed from it ends with the same weights, bit for bit, as an uninterrupted one
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { isBatonError, type RecipeStep } from "@baton/contracts";
import type { StageDefinition, TrainResult } from "@baton/runner";
import { loadModel, readStageReport } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { type ContextOptions, localContext } from "./context.ts";
import { tempDir } from "./fixtures.ts";

export interface ContractFixture {
  /** Dataset URIs of the step (file://). */
  data: string[];
  /** A config for a short run: a handful of train steps, snapshots every step or two. */
  config: Record<string, unknown>;
  /** Input checkpoint folder; null for a stage that starts from random init. */
  inputDir: string | null;
}

export interface ContractSpec<F extends ContractFixture = ContractFixture> {
  /** The stage kind the implementation must serve (recipe `stage`). */
  stage: string;
  create(): StageDefinition;
  fixture(dir: string): Promise<F>;
  /** More of the run's context than the input: earlier steps, the input's parent (RLHF stages). */
  context?(fixture: F): Partial<ContextOptions>;
}

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

async function runOnce<F extends ContractFixture>(
  spec: ContractSpec<F>,
  f: F,
  extra: { config?: Record<string, unknown>; data?: string[]; snapshotRoot?: string; abortAtStep?: number } = {},
) {
  const step: RecipeStep = {
    name: `${spec.stage}-step`,
    stage: spec.stage,
    config: extra.config ?? f.config,
    data: extra.data ?? f.data,
  };
  const abort = new AbortController();
  const local = await localContext({
    ...spec.context?.(f),
    step,
    inputDir: f.inputDir,
    seed: 3,
    signal: abort.signal,
    ...(extra.snapshotRoot && { snapshotRoot: extra.snapshotRoot }),
    onProgress: (p) => {
      if (extra.abortAtStep !== undefined && p.trainStep >= extra.abortAtStep) abort.abort();
    },
  });
  const result: Promise<TrainResult> = spec.create().train(local.ctx);
  return { local, result };
}

export function stageContract<F extends ContractFixture>(spec: ContractSpec<F>): void {
  describe(`stage contract: ${spec.stage} (${spec.create().implementation})`, () => {
    let fixture: F;
    let firstWeights: Map<string, Float32Array> | undefined;
    const getFixture = async () => (fixture ??= await spec.fixture(await tempDir()));

    it("names the stage it serves, an implementation and a version", () => {
      const def = spec.create();
      expect(def.stage).toBe(spec.stage);
      expect(def.implementation).toMatch(/\S/);
      expect(def.version).toMatch(/\S/);
    });

    it("writes a loadable checkpoint with finite metrics, progress and the sha256 of every dataset", async () => {
      const f = await getFixture();
      const { local, result } = await runOnce(spec, f);
      const r = await result;
      const out = await loadModel(local.ctx.outputDir, "output");
      firstWeights = out.weights;
      if (f.inputDir) {
        const input = await loadModel(f.inputDir, "input");
        expect(out.config).toEqual(input.config);
        expect(out.tokenizer.toHfJson()).toEqual(input.tokenizer.toHfJson());
        // it trained: some weight moved
        expect([...out.weights].some(([k, v]) => v.some((x, i) => x !== input.weights.get(k)?.[i]))).toBe(true);
      }
      const report = await readStageReport(local.ctx.outputDir);
      expect(report?.stage).toBe(spec.stage);
      expect(report?.curve.length).toBeGreaterThan(0);
      const metrics = Object.entries(r.metrics ?? {});
      expect(metrics.length).toBeGreaterThan(0);
      for (const [k, v] of metrics) expect(Number.isFinite(v), `metric ${k} = ${v}`).toBe(true);
      const recorded = new Map((r.datasets ?? []).map((d) => [d.uri, d.sha256]));
      for (const uri of f.data)
        expect(recorded.get(uri), `dataset ${uri} in the result`).toBe(await sha256(fileURLToPath(uri)));
      // an evaluation at step 0 (every stage on trainLoop has one) is on the input weights: the plot's
      // first point is the table's "before"
      const start = report?.evals[0]?.step === 0 ? report.evals[0].metrics : {};
      if (spec.stage !== "rlhf") expect(report?.evals[0]?.step).toBe(0);
      for (const [k, v] of Object.entries(start)) {
        const before = report?.effect[k]?.before;
        if (before !== undefined && before !== null) expect(v, `${k} at step 0`).toBeCloseTo(before, 5);
      }
      const steps = local.progress.map((p) => p.trainStep);
      expect(steps.length).toBeGreaterThan(0);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    });

    it("rejects an unknown config key, naming its JSON path, as a fatal error", async () => {
      const f = await getFixture();
      const { result } = await runOnce(spec, f, { config: { ...f.config, noSuchKey: 1 } });
      const err = await result.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isBatonError(err) && err.disposition).toBe("fatal");
      expect(String((err as Error).message)).toMatch(/\/noSuchKey: unknown key/);
    });

    it("fails fatally on a missing dataset, naming it", async () => {
      const f = await getFixture();
      const missing = `file://${await tempDir()}/not-there.jsonl`;
      const { local, result } = await runOnce(spec, f, { data: [missing, ...f.data.slice(1)] });
      const err = await result.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isBatonError(err) && err.disposition).toBe("fatal");
      expect(isBatonError(err) && err.code).toBe("DATASET_INVALID");
      expect(String((err as Error).message)).toContain("not-there.jsonl");
      expect(local.snapshots).toEqual([]);
    });

    it("stops on abort with a snapshot, and the resumed run ends with the same weights bit for bit", async () => {
      const f = await getFixture();
      if (!firstWeights) {
        const plain = await runOnce(spec, f);
        await plain.result;
        firstWeights = (await loadModel(plain.local.ctx.outputDir, "uninterrupted")).weights;
      }
      const snapshotRoot = await tempDir("baton-resume-");
      const first = await runOnce(spec, f, { snapshotRoot, abortAtStep: 2 });
      const err = await first.result.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isBatonError(err) && err.disposition, String(err)).toBe("retry");
      expect(first.local.snapshots.length).toBeGreaterThan(0);
      const second = await runOnce(spec, f, { snapshotRoot });
      await second.result;
      const resumed = await loadModel(second.local.ctx.outputDir, "resumed");
      for (const [name, w] of firstWeights ?? []) expect(resumed.weights.get(name), name).toEqual(w);
      expect(Math.min(...second.local.progress.map((p) => p.trainStep))).toBeGreaterThan(1);
    });
  });
}
