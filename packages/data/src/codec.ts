/**
 * The tokenizer shape this package needs. `@baton/model`'s Tokenizer has it; the data package does not
 * import the model package (the dependency goes the other way).
 */
export interface TextCodec {
  readonly vocabSize: number;
  readonly special: { bos: number; eos: number; pad: number };
  readonly specialText: { bos: string; eos: string; pad: string };
  /** Special-token text inside `text` becomes its single id. */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>, options?: { skipSpecial?: boolean }): string;
  createStreamEncoder(): { push(text: string): number[]; flush(): number[] };
}
