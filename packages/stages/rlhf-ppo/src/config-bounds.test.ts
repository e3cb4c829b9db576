// A recipe travels inside events: every number its config can set has an upper bound.

import { unboundedKeys } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { PPO_DEFAULTS, PPO_RULES } from "./config.ts";

describe("rlhf-ppo config", () => {
  it("bounds every number", () => {
    expect(unboundedKeys(PPO_DEFAULTS, PPO_RULES)).toEqual([]);
  });
});
