import { describe, expect, it } from "vitest";
import { ConfigInvalid, choice, closestName, loadConfig, stepProblems } from "./config.ts";
import { scheduleProblems } from "./train-defaults.ts";

const defaults = { model: { nLayer: 2, nEmbd: 64 }, policy: "fail", init: null as string | null, steps: 10 };

describe("loadConfig", () => {
  it("merges nested overrides key by key", () => {
    const c = loadConfig(defaults, { model: { nLayer: 4 }, steps: 20 }, "step x");
    expect(c).toEqual({ model: { nLayer: 4, nEmbd: 64 }, policy: "fail", init: null, steps: 20 });
  });

  it("names the JSON path of an unknown key and of a wrong type, all at once", () => {
    const bad = () => loadConfig(defaults, { model: { nLayers: 4 }, steps: "20" }, 'recipe step "pretrain" config');
    expect(bad).toThrow(/recipe step "pretrain" config is invalid/);
    expect(bad).toThrow('/model/nLayers: unknown key (did you mean "nLayer"?); known keys here: nLayer, nEmbd');
    expect(bad).toThrow(/\/steps: expected number, got string/);
  });

  it("checks rules (enums, integers, bounds) and typed nulls", () => {
    const rules = {
      "/policy": { oneOf: ["skip", "fail"] },
      "/steps": { integer: true, min: 1 },
      "/init": { type: "string" as const },
    };
    expect(() => loadConfig(defaults, { policy: "ignore" }, "w", rules)).toThrow(
      /\/policy: must be one of "skip", "fail"/,
    );
    expect(() => loadConfig(defaults, { steps: 2.5 }, "w", rules)).toThrow(/\/steps: must be an integer/);
    expect(() => loadConfig(defaults, { init: 3 }, "w", rules)).toThrow(/\/init: expected string, got number/);
    expect(loadConfig(defaults, { init: "file:///x" }, "w", rules).init).toBe("file:///x");
  });

  it("suggests the known name a typo is closest to, and nothing for a name far from all of them", () => {
    expect(closestName("stpes", ["steps", "batchSize"])).toBe("steps");
    expect(closestName("LR", ["lr", "minLr"])).toBe("lr");
    expect(closestName("warmup", ["steps", "batchSize", "warmupSteps"])).toBeNull();
    expect(() => loadConfig(defaults, { zebra: 1 }, "w")).toThrow(
      "/zebra: unknown key; known keys here: model, policy, init, steps",
    );
  });

  it("types a choice() default as its options, which the rule checks from the same list", () => {
    const MODES = ["rows", "packed"] as const;
    const load = (over: unknown) =>
      loadConfig({ packing: choice(MODES, "packed") }, over, "w", { "/packing": { oneOf: MODES } });
    const mode: "rows" | "packed" = load({ packing: "rows" }).packing; // no cast: the type checker holds the test to it
    expect(mode).toBe("rows");
    expect(() => load({ packing: "zip" })).toThrow('/packing: must be one of "rows", "packed", got "zip"');
  });

  it("refuses a config that is not an object", () => {
    expect(() => loadConfig(defaults, [1], "step y config")).toThrow(/step y config: expected an object, got array/);
  });
});

describe("cross-key rules and step problems", () => {
  const sched = {
    train: { steps: 10, batchSize: 4, warmupSteps: 2, minLr: 0, evalEvery: 5, snapshotEvery: 0 },
    heldOut: "val",
  };

  it("refuses a warmup longer than the run, as a fatal CONFIG_INVALID with each problem's path", () => {
    let thrown: unknown;
    try {
      loadConfig(sched, { train: { steps: 3, warmupSteps: 5 } }, "step s", {}, scheduleProblems);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigInvalid);
    expect(thrown).toMatchObject({
      code: "CONFIG_INVALID",
      disposition: "fatal",
      problems: ["/train/warmupSteps: 5 warmup steps exceed /train/steps (3); lower the warmup or train longer"],
    });
  });

  it("checks regular expressions, and stepProblems places config problems under /config", () => {
    const step = (config: unknown) => () =>
      loadConfig(sched, config, "step s", { "/heldOut": { regex: true } }, scheduleProblems);
    expect(stepProblems(step({ heldOut: "(" }))).toEqual([
      expect.stringMatching(/^\/config\/heldOut: not a regular expression/),
    ]);
    expect(stepProblems(step({ train: { stpes: 1 } }))).toEqual([
      expect.stringMatching(/^\/config\/train\/stpes: unknown key/),
    ]);
    expect(stepProblems(step({}))).toEqual([]);
    expect(stepProblems(step(7))).toEqual(["/config: expected an object, got number"]);
  });
});
