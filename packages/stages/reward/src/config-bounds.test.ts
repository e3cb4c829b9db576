// A recipe travels inside events: every number its config can set has an upper bound.

import { unboundedKeys } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { REWARD_DEFAULTS, REWARD_RULES } from "./config.ts";

describe("reward config", () => {
  it("bounds every number", () => {
    expect(unboundedKeys(REWARD_DEFAULTS, REWARD_RULES)).toEqual([]);
  });
});
