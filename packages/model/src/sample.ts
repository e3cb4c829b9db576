// Sampling with the KV-cache decoding graph: one onnxruntime call per token (for a whole batch of
// rows), the caches kept here and fed as inputs, each token's key and value written into them.
// Temperature, top-k and top-p (nucleus) filtering, seeded, stopping at EOS or max tokens.
import { compileInference, type InferenceProgram } from "@baton/engine";
import { rng as seededRandom } from "@baton/rng";
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
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 0)
    throw new Error(`sample: maxTokens must be an integer >= 0, got ${o.maxTokens}`);
  if (o.temperature !== undefined && !(o.temperature >= 0))
    throw new Error(`sample: temperature must be >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0))
    throw new Error(`sample: topK must be an integer >= 0, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1))
    throw new Error(`sample: topP must be in (0, 1], got ${o.topP}`);
}

/** Chooses the next token from logits [V] (float64 arithmetic; ties go to the lower id). */
export function pickToken(
  logits: ArrayLike<number>,
  o: Pick<SampleOptions, "temperature" | "topK" | "topP">,
  random: () => number,
): number {
  const V = logits.length;
  const temperature = o.temperature ?? 1;
  let best = 0;
  for (let i = 1; i < V; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  if (temperature === 0 || o.topK === 1) return best;
  // candidates in descending logit order, cut by top-k
  let order = Array.from({ length: V }, (_, i) => i).sort(
    (a, b) => (logits[b] as number) - (logits[a] as number) || a - b,
  );
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

/** One row of a batched generation: its prompt and its own options (seed, length, stops). */
export interface GenerationRequest {
  prompt: number[];
  options: SampleOptions;
}

/** The compiled decoding and prefill graphs for one batch size. */
interface Programs {
  decode: InferenceProgram;
  /** whole prompts in one call instead of one call per prompt token */
  prefill: InferenceProgram;
}

export class Sampler {
  /** batch sizes compiled on first use; 1 at creation */
  private readonly programs = new Map<number, Programs>();
  private params: ReadonlyMap<string, Float32Array>;

  private constructor(
    readonly config: GptModelConfig,
    private readonly threads: number,
    params: ReadonlyMap<string, Float32Array>,
  ) {
    this.params = params;
  }

  static async create(
    config: GptModelConfig,
    params: ReadonlyMap<string, Float32Array>,
    opts: { threads?: number } = {},
  ): Promise<Sampler> {
    checkModelConfig(config);
    const s = new Sampler(config, opts.threads ?? 2, params);
    await s.at(1);
    return s;
  }

  private async at(batch: number): Promise<Programs> {
    const have = this.programs.get(batch);
    if (have) return have;
    const decoder = traceDecoder(this.config, { batch });
    const prefill = tracePrefill(this.config, { batch });
    const p: Programs = {
      decode: await compileInference({ graph: decoder.g, outputs: decoder.outputs, threads: this.threads }),
      prefill: await compileInference({ graph: prefill.g, outputs: prefill.outputs, threads: this.threads }),
    };
    p.decode.loadParams(this.params);
    p.prefill.loadParams(this.params);
    this.programs.set(batch, p);
    return p;
  }

  private get one(): Programs {
    return this.programs.get(1) as Programs;
  }

  /** Swaps in other weights (a stage samples before and after training with the same compiled graphs). */
  loadParams(params: ReadonlyMap<string, Float32Array>): void {
    this.params = params;
    for (const p of this.programs.values()) {
      p.decode.loadParams(params);
      p.prefill.loadParams(params);
    }
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

  /** Feeds `token` at `position`; returns its next-token logits [V] and writes its key and value into `cache`. */
  private async feed(token: number, position: number, cache: Record<string, Float32Array>): Promise<Float32Array> {
    if (token < 0 || token >= this.config.vocabSize)
      throw new Error(`sample: token id ${token} is outside the model's vocabulary [0, ${this.config.vocabSize})`);
    const out = await this.one.decode.run({
      tokens: BigInt64Array.of(BigInt(token)),
      position: BigInt64Array.of(BigInt(position)),
      ...cache,
    });
    this.writeSlots(cache, out, [position]);
    return out.logits as Float32Array;
  }

  /** Writes each row's new key and value (present.* [B, H, 1, D]) into the caches [B, H, S, D] at the row's position. */
  private writeSlots(
    cache: Record<string, Float32Array>,
    out: Record<string, unknown>,
    positions: readonly number[],
  ): void {
    const { nLayer, nHead: H, nEmbd, blockSize: S } = this.config;
    const D = nEmbd / H;
    for (let l = 0; l < nLayer; l++) {
      for (const kind of ["key", "value"] as const) {
        const into = cache[pastName(l, kind)] as Float32Array;
        const fresh = out[presentName(l, kind)] as Float32Array;
        positions.forEach((pos, b) => {
          for (let h = 0; h < H; h++)
            into.set(fresh.subarray((b * H + h) * D, (b * H + h + 1) * D), ((b * H + h) * S + pos) * D);
        });
      }
    }
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
    const out = await this.one.prefill.run({ tokens: ids });
    for (let l = 0; l < nLayer; l++) {
      cache[pastName(l, "key")] = out[presentName(l, "key")] as Float32Array;
      cache[pastName(l, "value")] = out[presentName(l, "value")] as Float32Array;
    }
    const last = tokens.length - 1;
    return (out.logits as Float32Array).slice(last * V, (last + 1) * V);
  }

  /** Next-token logits [V] after each prefix of `tokens` (the same numbers sampling sees). */
  async logitsAlong(tokens: number[]): Promise<Float32Array[]> {
    if (tokens.length > this.config.blockSize)
      throw new Error(`logitsAlong: ${tokens.length} tokens exceed the block size ${this.config.blockSize}`);
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
    if (prompt.length === 0)
      throw new Error("sample: the prompt is empty; give at least one token (for example the tokenizer's BOS)");
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

  /**
   * Continues every request's prompt at once, one model call per token for the whole batch: what
   * rollouts, rankings and evaluations use. Each row draws from its own seeded stream, so a row gives
   * what `generate` gives it alone (up to float rounding in the batched kernels). Rows whose prompt
   * and maxTokens do not fit in one block (they would need the cache restart) go through `generate`.
   */
  async generateBatch(requests: readonly GenerationRequest[]): Promise<Generation[]> {
    const S = this.config.blockSize;
    const V = this.config.vocabSize;
    const out: Generation[] = new Array(requests.length);
    const rows: number[] = [];
    for (const [i, r] of requests.entries()) {
      checkSampleOptions(r.options);
      if (r.prompt.length === 0)
        throw new Error(
          `sample: request ${i}'s prompt is empty; give at least one token (for example the tokenizer's BOS)`,
        );
      for (const t of r.prompt)
        if (t < 0 || t >= V)
          throw new Error(`sample: request ${i}: token id ${t} is outside the model's vocabulary [0, ${V})`);
      if (r.prompt.length + r.options.maxTokens <= S && r.options.maxTokens > 0) rows.push(i);
      else out[i] = await this.generate(r.prompt, r.options);
    }
    if (rows.length === 0) return out;
    const B = rows.length;
    const p = await this.at(B);
    const req = rows.map((i) => requests[i] as GenerationRequest);
    const ids = new BigInt64Array(B * S);
    req.forEach((r, b) => r.prompt.forEach((t, j) => (ids[b * S + j] = BigInt(t))));
    const first = await p.prefill.run({ tokens: ids });
    const cache: Record<string, Float32Array> = {}; // the prefill's caches, [B, H, S, D]
    const takeCache = (o: Record<string, unknown>) => {
      for (let l = 0; l < this.config.nLayer; l++) {
        cache[pastName(l, "key")] = o[presentName(l, "key")] as Float32Array;
        cache[pastName(l, "value")] = o[presentName(l, "value")] as Float32Array;
      }
    };
    takeCache(first);
    const prefillLogits = first.logits as Float32Array;
    let logits = req.map((r, b) =>
      prefillLogits.subarray((b * S + r.prompt.length - 1) * V, (b * S + r.prompt.length) * V),
    );
    const random = req.map((r) => seededRandom(r.options.seed ?? 0));
    const stops = req.map((r) => new Set(r.options.stopTokens ?? []));
    const made: number[][] = req.map(() => []);
    const done: (Generation["finishReason"] | null)[] = req.map(() => null);
    const tokens = new BigInt64Array(B);
    const position = new BigInt64Array(B);
    for (;;) {
      req.forEach((r, b) => {
        if (done[b]) return;
        const next = pickToken(logits[b] as Float32Array, r.options, random[b] as () => number);
        (made[b] as number[]).push(next);
        r.options.onToken?.(next);
        if ((stops[b] as Set<number>).has(next)) done[b] = "stop-token";
        else if ((made[b] as number[]).length === r.options.maxTokens) done[b] = "max-tokens";
      });
      if (done.every((d) => d !== null)) break;
      req.forEach((r, b) => {
        // a finished row keeps its slot in the batch: it rewrites its last slot, and its logits go unread
        const n = r.prompt.length + (made[b] as number[]).length;
        tokens[b] = BigInt((made[b] as number[]).at(-1) as number);
        position[b] = BigInt(Math.min(n - 1, S - 1));
      });
      const o = await p.decode.run({ tokens, position, ...cache });
      this.writeSlots(cache, o, Array.from(position, Number));
      const all = o.logits as Float32Array;
      logits = req.map((_, b) => all.subarray(b * V, (b + 1) * V));
    }
    rows.forEach(
      (i, b) => (out[i] = { tokens: made[b] as number[], finishReason: done[b] as Generation["finishReason"] }),
    );
    return out;
  }

  async dispose(): Promise<void> {
    for (const p of this.programs.values()) {
      await p.decode.dispose();
      await p.prefill.dispose();
    }
    this.programs.clear();
  }
}
