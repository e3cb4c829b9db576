import { describe, expect, it } from "vitest";
import { CliError, numberFlag, parseCommandArgs } from "./args.ts";

describe("parseCommandArgs", () => {
  it("parses known flags", () => {
    const { values, positionals } = parseCommandArgs(
      ["ckpt", "--iters", "5"],
      { iters: { type: "string" } },
      "usage: x",
    );
    expect(values.iters).toBe("5");
    expect(positionals).toEqual(["ckpt"]);
  });

  it("rejects an unknown flag naming it and showing usage", () => {
    expect(() => parseCommandArgs(["--iterz", "5"], { iters: { type: "string" } }, "usage: baton x")).toThrowError(
      /--iterz[\s\S]*usage: baton x/,
    );
  });
});

describe("numberFlag", () => {
  it("names the flag when the value is not a number", () => {
    expect(() => numberFlag("iters", "many", 10, 1)).toThrowError(CliError);
    expect(() => numberFlag("iters", "0", 10, 1)).toThrowError(/--iters must be a number >= 1, got "0"/);
    expect(numberFlag("iters", undefined, 10)).toBe(10);
    expect(numberFlag("iters", "7", 10)).toBe(7);
  });
});
