// Forward-only programs over prompt + response rows (no dropout): what a preference stage reads of
// a model without training it: reward scores, per-token values, log-probabilities and entropies.
import { compileInference, type InferenceProgram } from "@baton/engine";
import { type GptConfig, traceGpt } from "@baton/model";
import { lastTokenScores, positionEntropy, positionScores, targetLogProbs } from "./heads.ts";
import type { SeqRows } from "./sequences.ts";

export type SeqOutput = "scores" | "values" | "logprobs" | "entropy";

const int64 = (a: Int32Array): BigInt64Array => BigInt64Array.from(a, (v) => BigInt(v));

export class SeqProgram {
  private constructor(
    private readonly program: InferenceProgram,
    readonly rows: number,
    readonly seq: number,
    private readonly names: Set<string>,
  ) {}

  /** scores [R] at each row's last token; values, logprobs, entropy [R*T] at every position. */
  static async compile(
    cfg: GptConfig,
    o: { rows: number; seq: number; threads: number; outputs: readonly SeqOutput[] },
  ): Promise<SeqProgram> {
    const t = traceGpt(cfg, { batch: o.rows, seq: o.seq, dropout: 0 });
    const build: Record<SeqOutput, () => ReturnType<typeof positionScores>> = {
      scores: () => lastTokenScores(t),
      values: () => positionScores(t),
      logprobs: () => targetLogProbs(t),
      entropy: () => positionEntropy(t),
    };
    const outputs = Object.fromEntries(o.outputs.map((k) => [k, build[k]()]));
    const program = await compileInference({ graph: t.g, outputs, threads: o.threads });
    return new SeqProgram(program, o.rows, o.seq, new Set(program.layout.slots.map((s) => s.name)));
  }

  /** Loads the weights this program reads (a map may hold more, e.g. a policy's head-less copy). */
  load(weights: ReadonlyMap<string, Float32Array>): void {
    this.program.loadParams(new Map([...weights].filter(([k]) => this.names.has(k))));
  }

  async run(rows: SeqRows): Promise<Partial<Record<SeqOutput, Float32Array>>> {
    if (rows.rows !== this.rows || rows.seq !== this.seq)
      throw new Error(`SeqProgram: traced for ${this.rows} x ${this.seq} rows, given ${rows.rows} x ${rows.seq}`);
    const feeds: Record<string, BigInt64Array> = { tokens: int64(rows.x) };
    const wanted = new Set(this.program.userInputs.map((i) => i.name));
    if (wanted.has("targets")) feeds.targets = int64(rows.y);
    if (wanted.has("last_index")) feeds.last_index = rows.last;
    return (await this.program.run(feeds)) as Partial<Record<SeqOutput, Float32Array>>;
  }

  async dispose(): Promise<void> {
    await this.program.dispose();
  }
}
