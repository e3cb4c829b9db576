// The GPT decoder for serving: one plain ONNX graph with dynamic batch and sequence axes and a KV
// cache named as HF Optimum names it, which onnxruntime and transformers.js run as they run an
// exported GPT-2. The training engine traces static shapes; this graph is written op by op instead,
// with the same ops the engine lowers our GPT to (LayerNormalization, Gelu tanh, MatMul, Softmax), so
// it computes what `baton sample` computes.
//
//   inputs   input_ids [batch_size, sequence_length] int64
//            attention_mask [batch_size, past_sequence_length + sequence_length] int64 (1 = attend)
//            position_ids [batch_size, sequence_length] int64
//            past_key_values.<l>.key / .value [batch_size, H, past_sequence_length, D] float32
//   outputs  logits [batch_size, sequence_length, V] float32
//            present.<l>.key / .value [batch_size, H, past_sequence_length + sequence_length, D]
// Glossary: B batch, T new tokens, P cached tokens, L = P + T, C width, H heads, D = C / H, V vocab.
import { encodeModel, nn, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from "@baton/engine";
import { gptTensorSpecs } from "../checkpoint/hf-gpt2.ts";
import { checkModelConfig, type GptModelConfig } from "../gpt/config.ts";

export const pastKeyValueName = (l: number, kind: "key" | "value"): string => `past_key_values.${l}.${kind}`;
export const presentKeyValueName = (l: number, kind: "key" | "value"): string => `present.${l}.${kind}`;

const TO_BOOL = 9; // TensorProto.BOOL

class GraphWriter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private n = 0;

  op(op: string, inputs: string[], attrs?: OnnxNode["attrs"], output?: string): string {
    const out = output ?? `${op.toLowerCase()}_${this.n++}`;
    this.nodes.push({ op, inputs, outputs: [out], ...(attrs ? { attrs } : {}) });
    return out;
  }
  split(input: string, sizes: number[], axis: number): string[] {
    const outs = sizes.map(() => `split_${this.n++}`);
    this.nodes.push({ op: "Split", inputs: [input, this.int64(sizes)], outputs: outs, attrs: { axis } });
    return outs;
  }
  int64(values: number[], dims: number[] = [values.length]): string {
    return this.init(`const_${this.n++}`, "int64", dims, BigInt64Array.from(values.map(BigInt)));
  }
  float(value: number): string {
    return this.init(`const_${this.n++}`, "float32", [], Float32Array.of(value));
  }
  init(name: string, dtype: OnnxTensor["dtype"], dims: number[], data: OnnxTensor["data"]): string {
    this.initializers.push({ name, dtype, dims, data });
    return name;
  }
}

/** The ONNX decoder of a GPT with these weights (HF GPT-2 names), as model.onnx bytes. */
export function exportDecoderOnnx(cfg: GptModelConfig, params: ReadonlyMap<string, Float32Array>): Uint8Array {
  checkModelConfig(cfg);
  const { nLayer, nHead: H, nEmbd: C, vocabSize: V } = cfg;
  const D = C / H;
  const w = new GraphWriter();
  for (const s of gptTensorSpecs(cfg)) {
    const data = params.get(s.name);
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (!data || data.length !== size)
      throw new Error(
        `exportDecoderOnnx: weight ${s.name} [${s.shape.join(", ")}] has ${data ? `${data.length} values` : "no values"}; is the checkpoint complete?`,
      );
    w.init(s.name, "float32", s.shape, data);
  }
  const weight = (name: string): string | null =>
    params.has(name) && (cfg.bias || !name.endsWith(".bias")) ? name : null;
  const linear = (x: string, prefix: string): string => {
    const y = w.op("MatMul", [x, `${prefix}.weight`]);
    const b = weight(`${prefix}.bias`);
    return b ? w.op("Add", [y, b]) : y;
  };
  const norm = (x: string, prefix: string): string => {
    const b = weight(`${prefix}.bias`);
    return w.op("LayerNormalization", [x, `${prefix}.weight`, ...(b ? [b] : [])], {
      axis: -1,
      epsilon: { float: cfg.layerNormEps },
    });
  };

  // which keys each query may see: causal (key position <= the query's) and not padding
  const totalLen = w.op("Shape", ["attention_mask"], { start: 1, end: 2 }); // [1] = L
  const newLen = w.op("Shape", ["input_ids"], { start: 1, end: 2 }); // [1] = T
  const scalar = (x: string) => w.op("Reshape", [x, w.int64([], [0])]);
  const L = scalar(totalLen);
  const P = scalar(w.op("Sub", [totalLen, newLen]));
  const keyPos = w.op("Unsqueeze", [w.op("Range", [w.int64([0], []), L, w.int64([1], [])]), w.int64([0])]); // [1, L]
  const queryPos = w.op("Unsqueeze", [w.op("Range", [P, L, w.int64([1], [])]), w.int64([1])]); // [T, 1]
  const causal = w.op("LessOrEqual", [keyPos, queryPos]); // [T, L]
  const notPad = w.op("Unsqueeze", [w.op("Cast", ["attention_mask"], { to: TO_BOOL }), w.int64([1, 2])]); // [B, 1, 1, L]
  const allowed = w.op("And", [causal, notPad]); // [B, 1, T, L]
  const neg = w.float(nn.MASKED_SCORE);
  const scale = w.float(1 / Math.sqrt(D));
  const headsShape = w.int64([0, 0, H, D]);
  const widthShape = w.int64([0, 0, C]);

  let x = w.op("Add", [
    w.op("Gather", ["transformer.wte.weight", "input_ids"]),
    w.op("Gather", ["transformer.wpe.weight", "position_ids"]),
  ]); // [B, T, C]
  for (let l = 0; l < nLayer; l++) {
    const p = `transformer.h.${l}`;
    const [q, k, v] = w.split(linear(norm(x, `${p}.ln_1`), `${p}.attn.c_attn`), [C, C, C], 2) as [
      string,
      string,
      string,
    ]; // [B, T, C] each
    const heads = (t: string) => w.op("Transpose", [w.op("Reshape", [t, headsShape])], { perm: [0, 2, 1, 3] }); // [B, H, T, D]
    const qh = w.op("Mul", [heads(q), scale]);
    const key = w.op("Concat", [pastKeyValueName(l, "key"), heads(k)], { axis: 2 }, presentKeyValueName(l, "key")); // [B, H, L, D]
    const value = w.op(
      "Concat",
      [pastKeyValueName(l, "value"), heads(v)],
      { axis: 2 },
      presentKeyValueName(l, "value"),
    );
    const scores = w.op("MatMul", [qh, w.op("Transpose", [key], { perm: [0, 1, 3, 2] })]); // [B, H, T, L]
    const probs = w.op("Softmax", [w.op("Where", [allowed, scores, neg])], { axis: -1 });
    const y = w.op("Reshape", [
      w.op("Transpose", [w.op("MatMul", [probs, value])], { perm: [0, 2, 1, 3] }),
      widthShape,
    ]); // [B, T, C]
    x = w.op("Add", [x, linear(y, `${p}.attn.c_proj`)]);
    const h = w.op("Gelu", [linear(norm(x, `${p}.ln_2`), `${p}.mlp.c_fc`)], { approximate: "tanh" }); // [B, T, 4C]
    x = w.op("Add", [x, linear(h, `${p}.mlp.c_proj`)]);
  }
  const head = cfg.tieWordEmbeddings ? "transformer.wte.weight" : "lm_head.weight"; // [V, C]
  w.op("MatMul", [norm(x, "transformer.ln_f"), w.op("Transpose", [head], { perm: [1, 0] })], undefined, "logits"); // [B, T, V]

  const dyn = (name: string, dtype: OnnxValueInfo["dtype"], dims: (number | string)[]): OnnxValueInfo => ({
    name,
    dtype,
    dims: dims.map((d) => (typeof d === "number" ? d : 0)),
    dimParams: dims.map((d) => (typeof d === "string" ? d : null)),
  });
  const cache = (name: (l: number, kind: "key" | "value") => string, len: string) =>
    Array.from({ length: nLayer }, (_, l) =>
      (["key", "value"] as const).map((kind) => dyn(name(l, kind), "float32", ["batch_size", H, len, D])),
    ).flat();
  const graph: OnnxGraph = {
    name: "baton_gpt_decoder",
    nodes: w.nodes,
    initializers: w.initializers,
    inputs: [
      dyn("input_ids", "int64", ["batch_size", "sequence_length"]),
      dyn("attention_mask", "int64", ["batch_size", "total_sequence_length"]),
      dyn("position_ids", "int64", ["batch_size", "sequence_length"]),
      ...cache(pastKeyValueName, "past_sequence_length"),
    ],
    outputs: [
      dyn("logits", "float32", ["batch_size", "sequence_length", V]),
      ...cache(presentKeyValueName, "total_sequence_length"),
    ],
  };
  return encodeModel(graph);
}
