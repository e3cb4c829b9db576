// One `baton bench pretrain` measurement as a function: train a prepared preset for its iterations,
// evaluate once at the end, and return tokens/s, the median ms per iteration (evaluation and the first
// two steps excluded), losses, parameters, threads, peak RSS and the machine's load. `bench pretrain`
// prints it; `bench compare` runs it round after round beside PyTorch.
import { cpus, loadavg } from "node:os";
import { Evaluator, type PreparedPretraining, pooledLoss, type TrainResult, trainLanguageModel } from "@baton/model";

/** Lowest and highest mean of 20 consecutive batches among the final evaluation's (null below 20). */
function range20(r: TrainResult): [number, number] | null {
  const batches = r.evals.at(-1)?.valBatches ?? [];
  const groups: number[] = [];
  for (let g = 0; g + 20 <= batches.length; g += 20) groups.push(pooledLoss(batches.slice(g, g + 20)));
  return groups.length ? [+Math.min(...groups).toFixed(4), +Math.max(...groups).toFixed(4)] : null;
}

/** The exact loss over the whole validation split, from a forward-only program of the trained weights. */
async function wholeSplitLoss(prep: PreparedPretraining, r: TrainResult, threads: number): Promise<number> {
  const ev = await Evaluator.compile(prep.model, { batch: prep.hyper.batchSize, seq: prep.model.blockSize, threads });
  try {
    return +(await ev.wholeSplitLoss(r.params, prep.corpus.val)).toFixed(4);
  } finally {
    await ev.dispose();
  }
}

export type PretrainBenchResult = Awaited<ReturnType<typeof pretrainBench>>;

/**
 * One benchmark run on a prepared corpus and preset: trains --iters steps at `threads` (default the
 * prepared options'), evaluates once at the end, and returns what `bench pretrain` prints. The
 * prepared corpus and batches are stateless, so one preparation serves several runs (bench compare).
 */
export async function pretrainBench(
  prep: PreparedPretraining,
  o: { threads?: number; wholeVal?: boolean; progressBar?: boolean } = {},
) {
  const load0 = loadavg()[0] as number;
  const evalBatches = prep.hyper.evalBatches;
  const threads = o.threads ?? prep.options.threads ?? 2;
  const r = await trainLanguageModel({
    ...prep.options,
    threads,
    eval: { every: 0, batches: evalBatches, keepBatches: true },
    progressBar: o.progressBar ?? false,
  });
  const m = r.metrics;
  const sorted = r.stepMs.slice(2).sort((a, b) => a - b);
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024); // training's peak, before the extra evaluation
  const detail = {
    valLoss20Range: range20(r),
    ...(o.wholeVal ? { valLossWholeSplit: await wholeSplitLoss(prep, r, threads) } : {}),
  };
  return {
    bench: "pretrain",
    preset: prep.preset.name,
    tokensPerSec: Math.round(m.tokensPerSec),
    msPerIter: +m.msPerIter.toFixed(2),
    msPerIterP10: +(sorted[Math.floor(sorted.length * 0.1)] ?? NaN).toFixed(2),
    msPerIterP90: +(sorted[Math.floor(sorted.length * 0.9)] ?? NaN).toFixed(2),
    trainLoss: +m.trainLoss.toFixed(4),
    valLoss: +m.valLoss.toFixed(4),
    evalBatches,
    ...detail,
    params: m.params,
    iters: m.steps,
    batchSize: prep.hyper.batchSize,
    blockSize: prep.model.blockSize,
    vocabSize: prep.model.vocabSize,
    threads,
    peakRssMb,
    wallSec: +(m.wallMs / 1000).toFixed(1),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    loadAvgStart: +load0.toFixed(2),
    loadAvgEnd: +(loadavg()[0] as number).toFixed(2),
  };
}
