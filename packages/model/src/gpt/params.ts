// GPT parameters declared on an engine Graph under the HF GPT-2 names of gptTensorSpecs (the one
// place those names live), so a trained model is saved and imported without renaming.
import { type Graph, normal, ones, type Tensor, zeros } from "@baton/engine";
import { gptTensorSpecs } from "../checkpoint/hf-gpt2.ts";
import type { GptModelConfig } from "./config.ts";

export interface LinearParams {
  w: Tensor; // [in, out] (HF Conv1D layout: y = x @ w + b)
  b: Tensor | null; // [out]
}

export interface NormParams {
  w: Tensor; // [C]
  b: Tensor | null; // [C]
}

export interface BlockParams {
  ln1: NormParams;
  attn: LinearParams; // [C, 3C]: q, k, v concatenated on the output axis
  proj: LinearParams; // [C, C]
  ln2: NormParams;
  fc: LinearParams; // [C, 4C]
  fcProj: LinearParams; // [4C, C]
}

export interface GptParams {
  wte: Tensor; // [V, C]
  wpe: Tensor; // [T, C]
  blocks: BlockParams[];
  lnf: NormParams;
  /** [V, C] when embeddings are not tied; logits = h @ lmHead^T */
  lmHead: Tensor | null;
}

/**
 * nanoGPT's initialisation: N(0, 0.02) for embeddings and linears, N(0, 0.02 / sqrt(2L)) for the two
 * projections that write into the residual stream (so its variance does not grow with depth),
 * ones / zeros for norms and biases. Weight decay: matrices and embeddings only (the engine's
 * default for rank >= 2), as nanoGPT's configure_optimizers does.
 */
function initFor(name: string, cfg: GptModelConfig) {
  if (name.endsWith(".bias")) return zeros();
  if (/(^|\.)ln_(1|2|f)\.weight$/.test(name)) return ones();
  if (name.endsWith(".c_proj.weight")) return normal(0.02 / Math.sqrt(2 * cfg.nLayer));
  return normal(0.02);
}

/**
 * Declares every weight. Names in `frozen` become float32 inputs of the same name instead of
 * parameters: no gradient, no optimizer state, fed with every run (a stage that trains only the
 * last layers).
 */
export function declareGptParams(g: Graph, cfg: GptModelConfig, frozen: ReadonlySet<string> = new Set()): GptParams {
  const t = new Map<string, Tensor>();
  const specs = gptTensorSpecs(cfg);
  const unknown = [...frozen].filter((n) => !specs.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(
      `declareGptParams: frozen weight(s) ${unknown.join(", ")} are not weights of this model (bias: ${cfg.bias}, ${cfg.nLayer} layers)`,
    );
  for (const s of specs)
    t.set(
      s.name,
      frozen.has(s.name)
        ? g.input(s.name, s.shape, "float32")
        : g.param(s.name, s.shape, { init: initFor(s.name, cfg) }),
    );
  const get = (name: string): Tensor => {
    const v = t.get(name);
    if (!v) throw new Error(`declareGptParams: gptTensorSpecs has no "${name}"`);
    return v;
  };
  const opt = (name: string): Tensor | null => (cfg.bias ? get(name) : null);
  const norm = (p: string): NormParams => ({ w: get(`${p}.weight`), b: opt(`${p}.bias`) });
  const lin = (p: string): LinearParams => ({ w: get(`${p}.weight`), b: opt(`${p}.bias`) });
  const blocks: BlockParams[] = [];
  for (let i = 0; i < cfg.nLayer; i++) {
    const h = `transformer.h.${i}`;
    blocks.push({
      ln1: norm(`${h}.ln_1`),
      attn: lin(`${h}.attn.c_attn`),
      proj: lin(`${h}.attn.c_proj`),
      ln2: norm(`${h}.ln_2`),
      fc: lin(`${h}.mlp.c_fc`),
      fcProj: lin(`${h}.mlp.c_proj`),
    });
  }
  return {
    wte: get("transformer.wte.weight"),
    wpe: get("transformer.wpe.weight"),
    blocks,
    lnf: norm("transformer.ln_f"),
    lmHead: cfg.tieWordEmbeddings ? null : get("lm_head.weight"),
  };
}
