export type { Tokenizer, StreamEncoder } from "./tokenizer.ts";
export { TokenizerError } from "./tokenizer.ts";
export { SPECIAL_TOKEN_NAMES, BATON_SPECIAL_TEXT } from "./special-tokens.ts";
export type { SpecialTokenName, SpecialTokenIds, SpecialTokenText } from "./special-tokens.ts";
export { CharTokenizer, trainCharTokenizer, charTokenizerFromChars } from "./char-tokenizer.ts";
export { ByteLevelBpeTokenizer, trainBpeTokenizer } from "./bpe-tokenizer.ts";
export { tokenizerFromHfJson, loadTokenizer, saveTokenizer } from "./hf-json.ts";
export type { HfTokenizerJson } from "./hf-json-types.ts";
export { loadGpt2TokenizerFiles } from "./gpt2-files.ts";
