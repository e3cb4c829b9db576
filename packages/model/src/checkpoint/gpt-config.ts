/**
 * Baton's GPT configuration and its HF GPT-2 config.json form. Dimension glossary used in comments:
 * V vocab, T block size (positions), C width (n_embd), H heads, L layers.
 */
export interface GptConfig {
  /** Architecture family; "gpt2" now, room for a Llama-style block later. */
  arch: "gpt2";
  nLayer: number; // L
  nHead: number; // H
  nEmbd: number; // C, divisible by H
  blockSize: number; // T: learned positions, HF n_positions
  vocabSize: number; // V: may exceed the tokenizer's vocab (padding for speed); never smaller
  layerNormEps: number;
  /** gelu_new = the tanh form GPT-2 uses; gelu = the exact erf form. */
  activation: "gelu_new" | "gelu";
  /** true: no lm_head.weight; logits = h @ wte^T. */
  tieWordEmbeddings: boolean;
  /** Baton key: biases in linears and layer norms. HF GPT-2 always has them. */
  bias: boolean;
  /** Baton key: one dropout rate for embeddings, attention and residuals. */
  dropout: number;
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

export const DEFAULT_GPT_CONFIG: Omit<GptConfig, "nLayer" | "nHead" | "nEmbd" | "blockSize" | "vocabSize"> = {
  arch: "gpt2",
  layerNormEps: 1e-5,
  activation: "gelu_new",
  tieWordEmbeddings: true,
  bias: true,
  dropout: 0,
};

/** Checks the rules a config must meet; throws naming the field. */
export function validateGptConfig(c: GptConfig, where = "GptConfig"): GptConfig {
  for (const k of ["nLayer", "nHead", "nEmbd", "blockSize", "vocabSize"] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0)
      throw new CheckpointError(`${where}: ${k} must be a positive integer, got ${JSON.stringify(c[k])}`);
  }
  if (c.nEmbd % c.nHead !== 0)
    throw new CheckpointError(`${where}: nEmbd ${c.nEmbd} must be divisible by nHead ${c.nHead}`);
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw new CheckpointError(`${where}: dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.layerNormEps > 0)) throw new CheckpointError(`${where}: layerNormEps must be > 0, got ${c.layerNormEps}`);
  if (c.activation !== "gelu_new" && c.activation !== "gelu")
    throw new CheckpointError(`${where}: activation must be "gelu_new" or "gelu", got ${JSON.stringify(c.activation)}`);
  return c;
}

/** config.json for HF transformers' GPT2LMHeadModel, plus Baton's own keys (HF keeps unknown keys). */
export function gptConfigToHf(c: GptConfig, tokens?: { bos: number; eos: number }): Record<string, unknown> {
  validateGptConfig(c);
  return {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: c.vocabSize,
    n_positions: c.blockSize,
    n_ctx: c.blockSize,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: c.activation,
    layer_norm_epsilon: c.layerNormEps,
    resid_pdrop: c.dropout,
    embd_pdrop: c.dropout,
    attn_pdrop: c.dropout,
    initializer_range: 0.02,
    scale_attn_weights: true,
    tie_word_embeddings: c.tieWordEmbeddings,
    bos_token_id: tokens?.bos ?? null,
    eos_token_id: tokens?.eos ?? null,
    torch_dtype: "float32",
    bias: c.bias,
    dropout: c.dropout,
  };
}

/** Reads an HF GPT-2 config.json (ours or a published model's); refuses what Baton's GPT can not run. */
export function gptConfigFromHf(json: unknown, where = "config.json"): GptConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new CheckpointError(`${where}: expected a JSON object`);
  const j = json as Record<string, unknown>;
  if (j["model_type"] !== "gpt2") {
    throw new CheckpointError(
      `${where}: model_type is ${JSON.stringify(j["model_type"])}; Baton imports GPT-2-architecture models ("gpt2") only`,
    );
  }
  const int = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
      throw new CheckpointError(`${where}: ${key} must be a positive integer, got ${JSON.stringify(j[key])}`);
    return v;
  };
  const nEmbd = int("n_embd");
  const inner = j["n_inner"];
  if (inner != null && inner !== 4 * nEmbd) {
    throw new CheckpointError(
      `${where}: n_inner is ${JSON.stringify(inner)}; Baton's GPT uses an MLP of 4 * n_embd = ${4 * nEmbd}`,
    );
  }
  const act = j["activation_function"] ?? "gelu_new";
  const activation =
    act === "gelu_new" || act === "gelu_pytorch_tanh" || act === "gelu_fast"
      ? "gelu_new"
      : act === "gelu"
        ? "gelu"
        : undefined;
  if (!activation)
    throw new CheckpointError(
      `${where}: activation_function ${JSON.stringify(act)} is not supported (use gelu_new or gelu)`,
    );
  for (const key of ["scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"]) {
    if (j[key] === true) throw new CheckpointError(`${where}: ${key} = true is not supported by Baton's GPT`);
  }
  if (j["scale_attn_weights"] === false)
    throw new CheckpointError(`${where}: scale_attn_weights = false is not supported by Baton's GPT`);
  const dropout =
    typeof j["dropout"] === "number" ? j["dropout"] : typeof j["resid_pdrop"] === "number" ? j["resid_pdrop"] : 0;
  return validateGptConfig(
    {
      arch: "gpt2",
      nLayer: int("n_layer"),
      nHead: int("n_head"),
      nEmbd,
      blockSize: int("n_positions", j["n_ctx"] as number | undefined),
      vocabSize: int("vocab_size"),
      layerNormEps: typeof j["layer_norm_epsilon"] === "number" ? j["layer_norm_epsilon"] : 1e-5,
      activation,
      tieWordEmbeddings: j["tie_word_embeddings"] !== false,
      bias: j["bias"] !== false,
      dropout,
    },
    where,
  );
}
