export * from "./tokenizer/index.ts";
export * from "./checkpoint/index.ts";
export * from "./gpt/index.ts";
export * from "./trainer/index.ts";
export { PRESETS, getPreset, presetModel, PresetError } from "./presets.ts";
export type { Preset, TrainDefaults } from "./presets.ts";
export { Sampler, pickToken, checkSampleOptions } from "./sample.ts";
export type { SampleOptions, Generation } from "./sample.ts";
