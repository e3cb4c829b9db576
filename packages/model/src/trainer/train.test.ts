import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PRESETS, presetModel } from "../presets.ts";
import { TokenWindows } from "./batches.ts";
import type { TrainEvent } from "./progress.ts";
import { folderSnapshots, type SnapshotStore, stageSnapshots, type TrainerSnapshot } from "./snapshot.ts";
import { TrainingInterrupted, type TrainLanguageModelOptions, trainLanguageModel } from "./train.ts";

// A corpus with structure a tiny model can learn: a fixed random permutation walk over 16 symbols,
// with every 7th token random, so the best loss is well above 0 but far below ln(16) = 2.77.
function walkCorpus(n: number, seed = 7): Int32Array {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
  const next = [3, 9, 14, 0, 7, 12, 5, 1, 10, 15, 2, 8, 13, 4, 11, 6];
  const out = new Int32Array(n);
  for (let i = 1; i < n; i++) out[i] = i % 7 === 0 ? Math.floor(rnd() * 16) : (next[out[i - 1] as number] as number);
  return out;
}

const tiny = (over: Partial<ReturnType<typeof presetModel>> = {}) => ({ ...presetModel(PRESETS.tiny!, 16), ...over });

function baseOptions(over: Partial<TrainLanguageModelOptions> = {}): TrainLanguageModelOptions {
  const model = over.model ?? tiny();
  return {
    model,
    data: TokenWindows.split(walkCorpus(4000), { valFraction: 0.1, batchSize: 8, blockSize: model.blockSize }),
    batchSize: 8,
    iters: 60,
    schedule: { lr: 1e-2, minLr: 1e-3, warmupIters: 5, decayIters: 60 },
    optimizer: { beta2: 0.99, weightDecay: 0.1 },
    eval: { every: 20, batches: 4 },
    seed: 3,
    progressBar: false,
    ...over,
  };
}

/** Keeps snapshots in memory; `frozenAfter` drops saves after a step (a hard kill loses them). */
function memorySnapshots(frozenAfter = Infinity): SnapshotStore & { saved: number[] } {
  let last: TrainerSnapshot | null = null;
  const saved: number[] = [];
  return {
    saved,
    async save(s) {
      saved.push(s.step);
      if (s.step <= frozenAfter) last = s;
    },
    async load() {
      return last;
    },
  };
}

const sameBits = (a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean =>
  a.size === b.size &&
  [...a].every(([k, v]) => {
    const w = b.get(k);
    return (
      w !== undefined &&
      Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(w.buffer, w.byteOffset, w.byteLength))
    );
  });

describe("trainLanguageModel", () => {
  it("a tiny GPT learns the walk: val loss falls from ln(16) to under half of it", async () => {
    const events: TrainEvent[] = [];
    const r = await trainLanguageModel(baseOptions({ onEvent: (e) => events.push(e) }));
    const first = r.evals[0]!;
    const last = r.evals.at(-1)!;
    expect(first.step).toBe(0);
    expect(first.valLoss).toBeGreaterThan(2.5); // random init predicts about uniformly: ln 16 = 2.77
    // 6 of 7 next tokens are determined by the previous one: the entropy floor is (1/7) ln 16 = 0.40
    expect(last.valLoss).toBeLessThan(0.5 * Math.log(16));
    expect(last.valLoss).toBeGreaterThan(0.3);
    expect(r.curve).toHaveLength(60);
    expect(r.evals.map((e) => e.step)).toEqual([0, 20, 40, 60]);
    expect(events.filter((e) => e.type === "step")).toHaveLength(60);
    expect(r.metrics.tokens).toBe(60 * 8 * 16);
    expect(r.metrics.params).toBe([...r.params.values()].reduce((n, v) => n + v.length, 0));
  });

  it("a run killed at step 6 and resumed equals the uninterrupted run: same curve, bit-identical weights", async () => {
    // dropout and two micro-batches per step, so the RNG stream and the data cursor are both exercised
    const model = tiny({ dropout: 0.1 });
    const opts = baseOptions({ model, iters: 12, accumSteps: 2, eval: { every: 4, batches: 2 } });
    const full = await trainLanguageModel(opts);

    const store = memorySnapshots();
    const stop = new AbortController();
    const killed = trainLanguageModel({
      ...opts,
      snapshots: { every: 4, store },
      signal: stop.signal,
      onEvent: (e) => e.type === "step" && e.step === 6 && stop.abort(),
    });
    await expect(killed).rejects.toBeInstanceOf(TrainingInterrupted);
    expect(store.saved).toEqual([4, 6]);
    const resumed = await trainLanguageModel({ ...opts, snapshots: { every: 4, store } });
    expect(resumed.resumedFrom).toBe(6);
    expect(resumed.curve).toEqual(full.curve);
    expect(resumed.evals).toEqual(full.evals);
    expect(sameBits(resumed.params, full.params)).toBe(true);
    expect(sameBits(resumed.optimizerState, full.optimizerState)).toBe(true);

    // a hard kill after step 6 loses that snapshot: resuming from step 4 still lands on the same bits
    const hard = memorySnapshots(4);
    const stop2 = new AbortController();
    await expect(
      trainLanguageModel({
        ...opts,
        snapshots: { every: 4, store: hard },
        signal: stop2.signal,
        onEvent: (e) => e.type === "step" && e.step === 6 && stop2.abort(),
      }),
    ).rejects.toThrow(/stopped at step 6/);
    const fromFour = await trainLanguageModel({ ...opts, snapshots: { every: 4, store: hard } });
    expect(fromFour.resumedFrom).toBe(4);
    expect(sameBits(fromFour.params, full.params)).toBe(true);
  });

  it("refuses a snapshot taken with other settings, naming them", async () => {
    const store = memorySnapshots();
    const opts = baseOptions({ iters: 4, eval: { every: 0, batches: 0 } });
    await trainLanguageModel({ ...opts, iters: 2, snapshots: { every: 1, store } });
    await expect(
      trainLanguageModel({
        ...opts,
        batchSize: 4,
        data: TokenWindows.split(walkCorpus(4000), { valFraction: 0.1, batchSize: 4, blockSize: 16 }),
        snapshots: { every: 1, store },
      }),
    ).rejects.toThrow(/other settings[\s\S]*batchSize: 8 -> 4/);
  });

  it("snapshots written as files (a folder, or a stage's snapshot API) resume to the same bits", async () => {
    const root = await mkdtemp(join(tmpdir(), "baton-snap-"));
    try {
      const opts = baseOptions({ iters: 6, eval: { every: 0, batches: 0 } });
      const full = await trainLanguageModel(opts);
      // the shape of the runner's ctx.snapshot: files saved under <step>/, the newest read back from disk
      let newest: { trainStep: number; dir: string } | null = null;
      const api = {
        async save(trainStep: number, files: Record<string, string | Uint8Array>) {
          const dir = join(root, "stage", String(trainStep));
          await mkdir(dir, { recursive: true });
          for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
          newest = { trainStep, dir };
        },
        latest: async () => newest,
      };
      for (const store of [folderSnapshots(join(root, "folder")), stageSnapshots(api)]) {
        const stop = new AbortController();
        await expect(
          trainLanguageModel({
            ...opts,
            snapshots: { every: 2, store },
            signal: stop.signal,
            onEvent: (e) => e.type === "step" && e.step === 3 && stop.abort(),
          }),
        ).rejects.toThrow(TrainingInterrupted);
        const resumed = await trainLanguageModel({ ...opts, snapshots: { every: 2, store } });
        expect(resumed.resumedFrom).toBe(3);
        expect(resumed.curve).toEqual(full.curve);
        expect(sameBits(resumed.params, full.params)).toBe(true);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
