// Sampling with the KV-cache decoding graph: one onnxruntime call per token, the caches fed back as
// inputs. Temperature, top-k and top-p (nucleus) filtering, seeded, stopping at EOS or max tokens.
import { rng as seededRandom } from "@baton/data";
import { compileInference, type InferenceProgram } from "@baton/engine";
import { checkModelConfig, type GptModelConfig } from "./gpt/config.ts";
import { pastName, presentName, traceDecoder, tracePrefill } from "./gpt/graphs.ts";

export interface SampleOptions {
  maxTokens: number;
  /** 0 = greedy (argmax); default 1 */
  temperature?: number;
  /** keep the k most likely tokens (0 or undefined = all) */
  topK?: number;
  /** keep the smallest set of most likely tokens whose probability reaches p (1 or undefined = all) */
  topP?: number;
  /** default 0 */
  seed?: number;
  /** generation stops after emitting one of these (typically the tokenizer's EOS); [] = never */
  stopTokens?: number[];
  /** called with each new token as it is chosen */
  onToken?: (id: number) => void;
}

export interface Generation {
  /** the new tokens (the stop token included when one ended the generation) */
  tokens: number[];
  finishReason: "stop-token" | "max-tokens";
}

export function checkSampleOptions(o: SampleOptions): void {
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 0) throw new Error(`sample: maxTokens must be an integer >= 0, got ${o.maxTokens}`);
  if (o.temperature !== undefined && !(o.temperature >= 0)) throw new Error(`sample: temperature must be >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new Error(`sample: topK must be an integer >= 0, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new Error(`sample: topP must be in (0, 1], got ${o.topP}`);
}

/** Chooses the next token from logits [V] (float64 arithmetic; ties go to the lower id). */
export function pickToken(logits: ArrayLike<number>, o: Pick<SampleOptions, "temperature" | "topK" | "topP">, random: () => number): number {
  const V = logits.length;
  const temperature = o.temperature ?? 1;
  let best = 0;
  for (let i = 1; i < V; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  if (temperature === 0 || o.topK === 1) return best;
  // candidates in descending logit order, cut by top-k
  let order = Array.from({ length: V }, (_, i) => i).sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
  if (o.topK && o.topK < V) order = order.slice(0, o.topK);
  const top = logits[best] as number;
  const weights = order.map((i) => Math.exp(((logits[i] as number) - top) / temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  if (o.topP !== undefined && o.topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < weights.length && acc < o.topP * total) acc += weights[keep++] as number;
    order = order.slice(0, Math.max(1, keep));
    weights.length = order.length;
    total = weights.reduce((a, b) => a + b, 0);
  }
  let r = random() * total;
  for (let j = 0; j < order.length; j++) {
    r -= weights[j] as number;
    if (r < 0) return order[j] as number;
  }
  return order[order.length - 1] as number;
}

export class Sampler {
  private constructor(
    readonly config: GptModelConfig,
    private readonly program: InferenceProgram,
    /** the whole prompt in one call instead of one call per prompt token */
    private readonly prefillProgram: InferenceProgram,
  ) {}

  static async create(config: GptModelConfig, params: ReadonlyMap<string, Float32Array>, opts: { threads?: number } = {}): Promise<Sampler> {
    checkModelConfig(config);
    const threads = opts.threads ?? 2;
    const decoder = traceDecoder(config, { batch: 1 });
    const program = await compileInference({ graph: decoder.g, outputs: decoder.outputs, threads });
    const prefill = tracePrefill(config);
    const prefillProgram = await compileInference({ graph: prefill.g, outputs: prefill.outputs, threads });
    const s = new Sampler(config, program, prefillProgram);
    s.loadParams(params);
    return s;
  }

  /** Swaps in other weights (a stage samples before and after training with one compiled graph). */
  loadParams(params: ReadonlyMap<string, Float32Array>): void {
    this.program.loadParams(params);
    this.prefillProgram.loadParams(params);
  }

  private emptyCache(): Record<string, Float32Array> {
    const { nLayer, nHead, nEmbd, blockSize } = this.config;
    const size = nHead * blockSize * (nEmbd / nHead); // [1, H, S, D]
    const cache: Record<string, Float32Array> = {};
    for (let l = 0; l < nLayer; l++) {
      cache[pastName(l, "key")] = new Float32Array(size);
      cache[pastName(l, "value")] = new Float32Array(size);
    }
    return cache;
  }

  /** Feeds `token` at `position`; returns its next-token logits [V] and writes the new caches into `cache`. */
  private async feed(token: number, position: number, cache: Record<string, Float32Array>): Promise<Float32Array> {
    if (token < 0 || token >= this.config.vocabSize) throw new Error(`sample: token id ${token} is outside the model's vocabulary [0, ${this.config.vocabSize})`);
    const out = await this.program.run({ tokens: BigInt64Array.of(BigInt(token)), position: BigInt64Array.of(BigInt(position)), ...cache });
    for (let l = 0; l < this.config.nLayer; l++) {
      cache[pastName(l, "key")] = out[presentName(l, "key")] as Float32Array;
      cache[pastName(l, "value")] = out[presentName(l, "value")] as Float32Array;
    }
    return out.logits as Float32Array;
  }

  /** Runs `tokens` through a fresh cache in one call; returns the logits after the last one. */
  private async prefill(tokens: number[], cache: Record<string, Float32Array>): Promise<Float32Array> {
    const { blockSize: S, vocabSize: V, nLayer } = this.config;
    if (tokens.length === 1) return this.feed(tokens[0] as number, 0, cache);
    const ids = new BigInt64Array(S); // positions past the prompt: token 0, masked and overwritten by decoding
    for (const [i, t] of tokens.entries()) {
      if (t < 0 || t >= V) throw new Error(`sample: token id ${t} is outside the model's vocabulary [0, ${V})`);
      ids[i] = BigInt(t);
    }
    const out = await this.prefillProgram.run({ tokens: ids });
    for (let l = 0; l < nLayer; l++) {
      cache[pastName(l, "key")] = out[presentName(l, "key")] as Float32Array;
      cache[pastName(l, "value")] = out[presentName(l, "value")] as Float32Array;
    }
    const last = tokens.length - 1;
    return (out.logits as Float32Array).slice(last * V, (last + 1) * V);
  }

  /** Next-token logits [V] after each prefix of `tokens` (the same numbers sampling sees). */
  async logitsAlong(tokens: number[]): Promise<Float32Array[]> {
    if (tokens.length > this.config.blockSize) throw new Error(`logitsAlong: ${tokens.length} tokens exceed the block size ${this.config.blockSize}`);
    const cache = this.emptyCache();
    const out: Float32Array[] = [];
    for (const [i, t] of tokens.entries()) out.push(await this.feed(t, i, cache));
    return out;
  }

  /**
   * Continues `prompt` (token ids, at least one). When the context reaches the block size, the
   * cache restarts from the last half block (learned positions can not slide), so long generations
   * cost about two model calls per token instead of one.
   */
  async generate(prompt: number[], o: SampleOptions): Promise<Generation> {
    checkSampleOptions(o);
    if (prompt.length === 0) throw new Error("sample: the prompt is empty; give at least one token (for example the tokenizer's BOS)");
    const S = this.config.blockSize;
    const random = seededRandom(o.seed ?? 0);
    const stops = new Set(o.stopTokens ?? []);
    let context = prompt.slice(-S);
    const cache = this.emptyCache();
    let logits = await this.prefill(context, cache);
    const tokens: number[] = [];
    while (tokens.length < o.maxTokens) {
      const next = pickToken(logits, o, random);
      tokens.push(next);
      o.onToken?.(next);
      if (stops.has(next)) return { tokens, finishReason: "stop-token" };
      if (tokens.length === o.maxTokens) break;
      context.push(next);
      if (context.length > S) {
        context = context.slice(-Math.max(1, Math.floor(S / 2)));
        const fresh = this.emptyCache();
        logits = await this.prefill(context, fresh);
        Object.assign(cache, fresh);
      } else {
        logits = await this.feed(next, context.length - 1, cache);
      }
    }
    return { tokens, finishReason: "max-tokens" };
  }

  async dispose(): Promise<void> {
    await this.program.dispose();
    await this.prefillProgram.dispose();
  }
}
