// A recipe travels inside events, so every size it can set is a size any publisher could set: each
// stage's config must bound every number (records, characters, samples, tokens, model sizes) and
// keep strings short. A stage this registry does not list checks itself the same way
// (packages/stages/<stage>/src/config-bounds.test.ts).

import { CPT_DEFAULTS, CPT_RULES, cptConfig } from "@baton/stage-cpt";
import { FINETUNE_DEFAULTS, FINETUNE_RULES } from "@baton/stage-finetune";
import { INSTRUCT_DEFAULTS, INSTRUCT_RULES, instructConfig } from "@baton/stage-instruct";
import { unboundedKeys } from "@baton/stage-lm";
import { PRETRAIN_DEFAULTS, PRETRAIN_RULES, pretrainConfig } from "@baton/stage-pretrain";
import { describe, expect, it } from "vitest";

const step = (stage: string, config: Record<string, unknown>) => ({ name: stage, stage, config, data: [] });

describe("stage configs bound every size", () => {
  it.each([
    ["pretrain", PRETRAIN_DEFAULTS, PRETRAIN_RULES],
    ["cpt", CPT_DEFAULTS, CPT_RULES],
    ["finetune", FINETUNE_DEFAULTS, FINETUNE_RULES],
    ["instruct", INSTRUCT_DEFAULTS, INSTRUCT_RULES],
  ] as const)("%s: every number has an upper bound", (_stage, defaults, rules) => {
    expect(unboundedKeys(defaults, rules)).toEqual([]);
  });

  it("sizes past their bound are refused naming the JSON path", () => {
    expect(() => pretrainConfig(step("pretrain", { samples: { promptChars: 2000, count: 100 } }))).toThrow(
      /\/samples\/promptChars: must be <= 256, got 2000[\s\S]*\/samples\/count: must be <= 16, got 100/,
    );
    expect(() => pretrainConfig(step("pretrain", { model: { blockSize: 1_000_000 }, maxChars: 10_000_000 }))).toThrow(
      /\/model\/blockSize: must be <= 32768[\s\S]*\/maxChars: must be <= 1000000/,
    );
    expect(() =>
      cptConfig(step("cpt", { samples: { maxTokens: 100_000 }, replay: { match: "a".repeat(500) } })),
    ).toThrow(
      /\/samples\/maxTokens: must be <= 1024, got 100000[\s\S]*\/replay\/match: must be at most 200 characters, got 500/,
    );
    expect(() =>
      instructConfig(step("instruct", { eval: { maxExamples: 1e9 }, chatTemplate: "x".repeat(30_000) })),
    ).toThrow(
      /\/eval\/maxExamples: must be <= 10000, got 1000000000[\s\S]*\/chatTemplate: must be at most 20000 characters, got 30000/,
    );
    expect(pretrainConfig(step("pretrain", { samples: { promptChars: 256 } })).samples.promptChars).toBe(256);
  });
});
