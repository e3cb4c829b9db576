// The graphs built from the GPT forward pass. Every program feeds the same names:
//   tokens [B, T] int64, targets [B*T] int64, loss_mask [B*T] float32 (1 = trained target),
//   position [1] int64, past.<l>.key / past.<l>.value [B, H, S, D] float32 (decoding),
//   with `packed`: positions [B, T] int64 (restarting at 0 per example) and segments [B, T] int64
//   (attention only inside equal ids), so supervised examples packed into one row stay apart,
//   with `frozen`: each frozen weight as a float32 input under its own name,
// and fetches logits, loss_sum / count, present.<l>.key / present.<l>.value.
import { Graph, nn, type Tensor } from "@baton/engine";
import { checkModelConfig, type GptModelConfig } from "./config.ts";
import { gptForward, lmHead } from "./forward.ts";
import { declareGptParams, type GptParams } from "./params.ts";

/** What an objective sees of a traced GPT: enough to add a head or a loss of its own. */
export interface GptTrace {
  g: Graph;
  cfg: GptModelConfig;
  params: GptParams;
  batch: number; // B
  seq: number; // T
  tokens: Tensor; // [B, T] int64
  hidden: Tensor; // [B, T, C] after the final norm
  /** [B*T, V], traced on first use */
  logits(): Tensor;
}

/** A loss as a sum over counted tokens and their count, so accumulation normalises over all of them. */
export interface LossTerms {
  sum: Tensor; // scalar
  count: Tensor; // scalar
}

/** The training objective: pretraining, supervised stages, and later reward / value heads. */
export type Objective = (t: GptTrace) => LossTerms;

/**
 * Mean next-token cross-entropy over the targets whose loss_mask is 1. Pretraining feeds a mask of
 * ones; supervised stages feed 1 on completion / assistant tokens only: one graph serves both.
 */
export const nextTokenLoss: Objective = (t) => {
  const N = t.batch * t.seq;
  const targets = t.g.input("targets", [N], "int64");
  const mask = t.g.input("loss_mask", [N], "float32");
  const ce = nn.crossEntropy(t.logits(), targets, { mask });
  return { sum: ce.sum, count: ce.count };
};

export interface TraceOptions {
  batch: number;
  /** sequence length (default: the block size) */
  seq?: number;
  /** default: the config's dropout (pass 0 for evaluation graphs) */
  dropout?: number;
  /** declare `positions` and `segments` [B, T] int64 inputs (packed supervised rows) */
  packed?: boolean;
  /** weights fed as inputs rather than trained (see declareGptParams) */
  frozen?: ReadonlySet<string>;
}

/** Declares the parameters and runs the forward pass over a `tokens` input. */
export function traceGpt(cfg: GptModelConfig, opts: TraceOptions): GptTrace {
  checkModelConfig(cfg);
  const B = opts.batch;
  const T = opts.seq ?? cfg.blockSize;
  const g = new Graph();
  const params = declareGptParams(g, cfg, opts.frozen);
  const tokens = g.input("tokens", [B, T], "int64");
  const packing = opts.packed
    ? { positions: g.input("positions", [B, T], "int64"), segments: g.input("segments", [B, T], "int64") }
    : {};
  const { hidden } = gptForward(g, params, cfg, tokens, { dropout: opts.dropout ?? cfg.dropout, ...packing });
  let logits: Tensor | null = null;
  return {
    g,
    cfg,
    params,
    batch: B,
    seq: T,
    tokens,
    hidden,
    logits: () => (logits ??= lmHead(params, hidden.reshape([B * T, cfg.nEmbd]))),
  };
}

/** A training graph: the trace plus its objective's { sum, count } (pass to compileTrainStep). */
export function traceTraining(
  cfg: GptModelConfig,
  opts: TraceOptions & { objective?: Objective },
): { trace: GptTrace; loss: LossTerms } {
  const trace = traceGpt(cfg, opts);
  return { trace, loss: (opts.objective ?? nextTokenLoss)(trace) };
}

/** Forward-only evaluation: outputs loss_sum and count (no dropout). */
export function traceEvaluation(
  cfg: GptModelConfig,
  opts: TraceOptions & { objective?: Objective },
): { g: Graph; outputs: Record<string, Tensor> } {
  const { trace, loss } = traceTraining(cfg, { ...opts, dropout: 0 });
  return { g: trace.g, outputs: { loss_sum: loss.sum, count: loss.count } };
}

/** Logits for every position: tokens [B, T] -> logits [B, T, V] (no dropout). */
export function traceLogits(cfg: GptModelConfig, opts: TraceOptions): { g: Graph; outputs: { logits: Tensor } } {
  const t = traceGpt(cfg, { ...opts, dropout: 0 });
  return { g: t.g, outputs: { logits: t.logits().reshape([t.batch, t.seq, cfg.vocabSize]) } };
}

export const pastName = (l: number, kind: "key" | "value"): string => `past.${l}.${kind}`;
export const presentName = (l: number, kind: "key" | "value"): string => `present.${l}.${kind}`;

/**
 * Whole prompts at once into a fresh cache: tokens [B, S] (S = blockSize; positions past a row's
 * prompt hold anything) -> logits [B*S, V] and present.<l>.key / value [B, H, S, D]. Decoding then
 * continues at each row's prompt length: it masks the slots it has not written and overwrites them.
 */
export function tracePrefill(
  cfg: GptModelConfig,
  opts: { batch: number } = { batch: 1 },
): { g: Graph; outputs: Record<string, Tensor> } {
  checkModelConfig(cfg);
  const B = opts.batch;
  const S = cfg.blockSize;
  const g = new Graph();
  const params = declareGptParams(g, cfg);
  const tokens = g.input("tokens", [B, S], "int64");
  const { hidden, present } = gptForward(g, params, cfg, tokens, { dropout: 0, keepCache: true });
  const outputs: Record<string, Tensor> = { logits: lmHead(params, hidden.reshape([B * S, cfg.nEmbd])) };
  present.forEach((c, l) => {
    outputs[presentName(l, "key")] = c.pastKey;
    outputs[presentName(l, "value")] = c.pastValue;
  });
  return { g, outputs };
}

/**
 * One decoding step with a KV cache of S = blockSize slots: tokens [B, 1], row b's at position[b]
 * -> logits [B, V] and the caches with these tokens written in. The caller feeds present.* back as past.*.
 */
export function traceDecoder(
  cfg: GptModelConfig,
  opts: { batch: number },
): { g: Graph; outputs: Record<string, Tensor> } {
  checkModelConfig(cfg);
  const B = opts.batch;
  const S = cfg.blockSize;
  const H = cfg.nHead;
  const D = cfg.nEmbd / H;
  const g = new Graph();
  const params = declareGptParams(g, cfg);
  const tokens = g.input("tokens", [B, 1], "int64");
  const position = g.input("position", [B], "int64");
  const layers = params.blocks.map((_, l) => ({
    pastKey: g.input(pastName(l, "key"), [B, H, S, D], "float32"),
    pastValue: g.input(pastName(l, "value"), [B, H, S, D], "float32"),
  }));
  const { hidden, present } = gptForward(g, params, cfg, tokens, {
    dropout: 0,
    decode: { position, slots: nn.arange(g, S), layers },
  });
  const outputs: Record<string, Tensor> = { logits: lmHead(params, hidden.reshape([B, cfg.nEmbd])) };
  present.forEach((c, l) => {
    outputs[presentName(l, "key")] = c.pastKey;
    outputs[presentName(l, "value")] = c.pastValue;
  });
  return { g, outputs };
}
