// A recipe travels inside events: every number its config can set has an upper bound.

import { unboundedKeys } from "@baton/stage-lm";
import { describe, expect, it } from "vitest";
import { DPO_DEFAULTS, DPO_RULES } from "./config.ts";

describe("rlhf-dpo config", () => {
  it("bounds every number", () => {
    expect(unboundedKeys(DPO_DEFAULTS, DPO_RULES)).toEqual([]);
  });
});
