// The pretraining commands as a user types them: `baton train pretrain` writes an HF-style folder,
// `baton sample` continues a prompt from it, `baton bench pretrain --json` prints one JSON line with
// the fields a benchmark table needs, and a user's mistake is one clear line and a non-zero exit.
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TINY_SHAKESPEARE as CORPUS } from "../fixtures/data/tinyshakespeare.ts";
import { cli } from "./cluster.ts";

describe("baton train pretrain / sample / bench pretrain", () => {
  it("trains a model folder, samples from it, and benchmarks as one JSON line", { timeout: 120_000 }, async () => {
    const out = join(await mkdtemp(join(tmpdir(), "baton-pretrain-cli-")), "model");
    const train = await cli(
      [
        "train",
        "pretrain",
        "--preset",
        "tiny",
        "--data",
        CORPUS,
        "--iters",
        "30",
        "--eval-interval",
        "0",
        "--threads",
        "1",
        "--out",
        out,
        "--json",
      ],
      {},
    );
    expect(train.code, train.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(
      expect.arrayContaining(["config.json", "model.safetensors", "tokenizer.json"]),
    );
    const config = JSON.parse(await readFile(join(out, "config.json"), "utf8")) as {
      model_type: string;
      n_layer: number;
      vocab_size: number;
    };
    expect(config).toMatchObject({ model_type: "gpt2", n_layer: 2, vocab_size: 72 });

    const sample = await cli(
      ["sample", out, "--prompt", "ROMEO:", "--max-tokens", "12", "--seed", "1", "--threads", "1", "--json"],
      {},
    );
    expect(sample.code, sample.stderr).toBe(0);
    const gen = JSON.parse(sample.stdout.trim().split("\n").at(-1) as string) as {
      prompt: string;
      completion: string;
      tokens: number[];
      finishReason: string;
    };
    expect(gen.prompt).toBe("ROMEO:");
    expect(gen.tokens.length).toBeGreaterThan(0);
    expect(gen.tokens.length).toBeLessThanOrEqual(12);
    expect(gen.completion.length).toBeLessThanOrEqual(gen.tokens.length); // char level: at most one character per id (special tokens print nothing)
    expect(["max-tokens", "eos"]).toContain(gen.finishReason);

    const bench = await cli(
      [
        "bench",
        "pretrain",
        "--preset",
        "tiny",
        "--data",
        CORPUS,
        "--iters",
        "20",
        "--eval-batches",
        "20",
        "--threads",
        "1",
        "--whole-val",
        "--json",
      ],
      {},
    );
    expect(bench.code, bench.stderr).toBe(0);
    const lines = bench.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0] as string) as Record<string, unknown>;
    for (const k of [
      "tokensPerSec",
      "msPerIter",
      "trainLoss",
      "valLoss",
      "valLossWholeSplit",
      "params",
      "threads",
      "peakRssMb",
    ])
      expect(r[k], k).toBeTypeOf("number");
    expect(r.params).toBe(28288);
    expect(r.valLoss20Range).toHaveLength(2);
    // the exact whole-split loss lies near the sampled estimate (the same model; 20 random batches of a 3.3-nat loss)
    expect(Math.abs((r.valLossWholeSplit as number) - (r.valLoss as number))).toBeLessThan(0.15);
  });

  it("says what was wrong with a bad preset or a missing corpus, and exits non-zero", async () => {
    const preset = await cli(["bench", "pretrain", "--preset", "gpt5", "--data", CORPUS, "--json"], {});
    expect(preset.code).not.toBe(0);
    expect(preset.stderr).toContain('unknown preset "gpt5"');
    expect(preset.stderr).toContain("nanogpt-baby");
    const missing = await cli(
      ["train", "pretrain", "--preset", "tiny", "--data", "/no/such/corpus.txt", "--out", join(tmpdir(), "never")],
      {},
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("/no/such/corpus.txt");
  });
});
