import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collectDataset } from "../read/reader.ts";
import { alpacaToMessages, chatExample, promptCompletionExample } from "../supervised/examples.ts";
import { testCodec } from "../test-codec.ts";
import { generateDemoData } from "./generate.ts";
import { plural } from "./words.ts";

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "demo-"));
}

describe("demo data", () => {
  it("is deterministic for a seed and different across seeds", async () => {
    const [a, b, c] = await Promise.all([dir(), dir(), dir()]);
    const ma = await generateDemoData(a, { seed: 3, scale: 0.1 });
    const mb = await generateDemoData(b, { seed: 3, scale: 0.1 });
    const mc = await generateDemoData(c, { seed: 4, scale: 0.1 });
    expect(mb).toEqual(ma);
    for (const name of Object.keys(ma.files)) {
      expect(await readFile(join(b, name), "utf8")).toBe(await readFile(join(a, name), "utf8"));
      expect(mc.files[name]!.sha256).not.toBe(ma.files[name]!.sha256);
    }
  });

  it("writes valid datasets of the designed sizes, all coverable by one char vocabulary from the general corpus", async () => {
    const d = await dir();
    const m = await generateDemoData(d, { seed: 1 });
    expect(m.files["general.train.jsonl"]!.bytes).toBeGreaterThan(300_000);
    expect(m.files["general.train.jsonl"]!.bytes).toBeLessThan(500_000);
    expect(m.files["domain.train.jsonl"]!.bytes).toBeGreaterThan(100_000);
    for (const [name, f] of Object.entries(m.files)) {
      const { report } = await collectDataset(join(d, name), { format: f.format, policy: "fail" });
      expect(report.records).toBe(f.records);
      expect(report.sha256).toBe(f.sha256);
    }
    // The domain has words general English never uses: that is what CPT must learn.
    const general = await readFile(join(d, "general.train.jsonl"), "utf8");
    const domain = await readFile(join(d, "domain.train.jsonl"), "utf8");
    for (const w of ["zorvath", "quilmere", "zithane"]) {
      expect(domain).toContain(w);
      expect(general).not.toContain(w);
    }
    // Every demo example fits a 64-token block of a char-level model (nanogpt-baby).
    const codec = testCodec(m.alphabet);
    const { records: instruct } = await collectDataset(join(d, "instruct.train.jsonl"), { format: "alpaca" });
    const { records: heldOut } = await collectDataset(join(d, "instruct.test.jsonl"), { format: "alpaca" });
    const { records: task } = await collectDataset(join(d, "task.train.jsonl"), { format: "prompt-completion" });
    const longest = Math.max(
      ...[...instruct, ...heldOut].map((r) => chatExample(codec, alpacaToMessages(r)).ids.length),
      ...task.map((r) => promptCompletionExample(codec, r).ids.length),
    );
    expect(longest).toBeLessThanOrEqual(65);
  });

  it("keeps test nouns out of training and held-out templates out of the instruction training set", async () => {
    const d = await dir();
    const m = await generateDemoData(d, { seed: 2, scale: 0.1 });
    const { records: train } = await collectDataset(join(d, "task.train.jsonl"), { format: "prompt-completion" });
    const { records: test } = await collectDataset(join(d, "task.test.jsonl"), { format: "prompt-completion" });
    const trainPrompts = new Set(train.map((r) => r.prompt));
    expect(test.filter((r) => trainPrompts.has(r.prompt))).toEqual([]);
    for (const r of [...train, ...test])
      expect(r.completion).toBe(` ${plural(r.prompt.slice("plural of ".length, -1))}`);
    const rules = new Set(
      test.map((r) =>
        r.completion.endsWith("ies")
          ? "ies"
          : r.completion.endsWith("es") && /(s|x|z|ch|sh)es$/.test(r.completion)
            ? "es"
            : "s",
      ),
    );
    expect(rules).toEqual(new Set(["s", "es", "ies"])); // all three rules are tested

    const { records: instruct } = await collectDataset(join(d, "instruct.train.jsonl"), { format: "alpaca" });
    const { records: heldOut } = await collectDataset(join(d, "instruct.test.jsonl"), { format: "alpaca" });
    expect(instruct.some((r) => r.input !== "")).toBe(true);
    // Every test instruction is a template never used in training.
    const trainTemplates = new Set(m.instructionTasks.flatMap((t) => t.train));
    for (const t of m.instructionTasks) for (const h of t.heldOut) expect(trainTemplates.has(h)).toBe(false);
    const seen = new Set(instruct.map((r) => r.instruction));
    expect(heldOut.filter((r) => seen.has(r.instruction))).toEqual([]);
    expect(heldOut.every((r) => /^(ok|so), /.test(r.instruction))).toBe(true);
    expect(new Set(m.instructionTasks.map((t) => t.name))).toEqual(
      new Set(["plural", "first-letter", "last-letter", "twice"]),
    );

    // Preference data: the right answer is chosen over a different, wrong one; rankings put it first.
    const { records: prefs } = await collectDataset(join(d, "prefs.train.jsonl"), { format: "preference" });
    expect(prefs.every((p) => p.chosen !== p.rejected)).toBe(true);
    const plurals = prefs.filter((p) => p.prompt.startsWith("plural of "));
    expect(plurals.length).toBeGreaterThan(0);
    for (const p of plurals) expect(p.chosen).toBe(plural(p.prompt.slice("plural of ".length, -1)));
    const { records: rankings } = await collectDataset(join(d, "ranking.train.jsonl"), { format: "ranking" });
    for (const r of rankings) expect(r.responses[r.ranking[2]!]).toBe("i do not know.");
  });

  it("plural follows the three regular rules", () => {
    expect(["fox", "church", "bush", "glass", "buzz", "story", "day", "cat"].map(plural)).toEqual([
      "foxes",
      "churches",
      "bushes",
      "glasses",
      "buzzes",
      "stories",
      "days",
      "cats",
    ]);
  });
});
