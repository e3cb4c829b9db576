export * from "./tokenizer/index.ts";
export * from "./checkpoint/index.ts";
