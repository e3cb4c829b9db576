// Prompt + response sequences, the rows every preference stage scores: a reward model reads each
// row at the response's last token, DPO and PPO sum or use the log-probabilities of the response's
// tokens. Shapes: R rows of T tokens, flattened row-major to [R*T].
import type { LmBatch } from "@baton/model";

/** One prompt and one response as token ids; a response that stopped by itself ends with EOS. */
export interface ResponseSeq {
  prompt: readonly number[];
  response: readonly number[];
}

export interface SeqRows {
  rows: number; // R
  seq: number; // T
  x: Int32Array; // [R*T] inputs: prompt + response, pad after
  y: Int32Array; // [R*T] next tokens
  /** [R*T] 1 where y is a response token: the actions a policy took */
  responseMask: Float32Array;
  /** [R] flat index (r*T + t) of each row's last response token, where a score head reads it */
  last: BigInt64Array;
  /** [R] 1 for a row holding a sequence, 0 for padding rows */
  used: Float32Array;
}

/** Whether prompt + response fit T tokens (a response of at least one token). */
export function fits(s: ResponseSeq, T: number): boolean {
  return s.prompt.length >= 1 && s.response.length >= 1 && s.prompt.length + s.response.length <= T;
}

/** Lays out up to R sequences (null = a padding row) as rows of T tokens. */
export function seqRows(seqs: ReadonlyArray<ResponseSeq | null>, R: number, T: number, pad: number): SeqRows {
  if (seqs.length > R) throw new Error(`seqRows: ${seqs.length} sequences do not fit ${R} rows`);
  const x = new Int32Array(R * T).fill(pad);
  const y = new Int32Array(R * T).fill(pad);
  const responseMask = new Float32Array(R * T);
  const last = new BigInt64Array(R);
  const used = new Float32Array(R);
  seqs.forEach((s, r) => {
    last[r] = BigInt(r * T);
    if (!s) return;
    if (!fits(s, T))
      throw new Error(
        `seqRows: a prompt of ${s.prompt.length} and a response of ${s.response.length} tokens do not fit the block of ${T}`,
      );
    const ids = [...s.prompt, ...s.response];
    const L = ids.length;
    const o = r * T;
    for (let t = 0; t < L; t++) x[o + t] = ids[t] as number;
    for (let t = 0; t < L - 1; t++) y[o + t] = ids[t + 1] as number;
    // response token k sits at ids[P + k] and is predicted at position P + k - 1
    for (let t = s.prompt.length - 1; t < L - 1; t++) responseMask[o + t] = 1;
    last[r] = BigInt(o + L - 1);
    used[r] = 1;
  });
  return { rows: R, seq: T, x, y, responseMask, last, used };
}

/** The rows as the trainer's batch: the response mask is the loss mask, `extra` the objective's own inputs. */
export function rowsBatch(rows: SeqRows, extra: Record<string, Float32Array | BigInt64Array> = {}): LmBatch {
  return { x: rows.x, y: rows.y, lossMask: rows.responseMask, extra };
}
