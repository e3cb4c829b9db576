import { describe, expect, it } from "vitest";
import { checkRanking } from "./ranking-check.ts";

const canonical = ["a", "b", "c"];
const shown = ["c", "a", "b"];

describe("checkRanking", () => {
  it("turns the shown ids, best first, into indices of the stored responses, with ties", () => {
    expect(checkRanking(shown, canonical, ["b", "c", "a"], [2])).toEqual({ ranking: [1, 2, 0], ties: [2] });
    expect(checkRanking(shown, canonical, ["a", "b", "c"], undefined)).toEqual({ ranking: [0, 1, 2], ties: [] });
  });

  it("says what is wrong with anything but a permutation of the shown ids", () => {
    expect(checkRanking(shown, canonical, ["a", "b", "z"], [])).toMatch(/\["z"\] that were not shown to you/);
    expect(checkRanking(shown, canonical, ["a", "b"], [])).toMatch(/leaves out response id\(s\) \["c"\]/);
    expect(checkRanking(shown, canonical, ["a", "a", "b", "c"], [])).toMatch(/\["a"\] more than once/);
    expect(checkRanking(shown, canonical, [0, 1, 2], [])).toMatch(/must be an array of the response ids/);
    expect(checkRanking(shown, canonical, ["a", "b", "c"], [0])).toMatch(/positions 1\.\.2/);
    expect(checkRanking(shown, canonical, ["a", "b", "c"], [3])).toMatch(/positions 1\.\.2/);
    expect(checkRanking(shown, canonical, ["a", "b", "c"], [1, 1])).toMatch(/repeats a position/);
  });
});
