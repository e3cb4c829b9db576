// `baton bench rollout` on a small random checkpoint: the JSON has every field a benchmark table
// needs, and greedy tokens from PyTorch equal Baton's where /usr/bin/python3 has torch; where it
// has not (or the python does not exist), the PyTorch side is reported unavailable with the reason.
import { spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_GPT_CONFIG,
  type F32Tensor,
  type GptConfig,
  gptTensorSpecs,
  saveHfFolder,
  trainCharTokenizer,
} from "@baton/model";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CliError } from "../args.ts";
import { FIXED_PROMPTS, runRolloutBench } from "./bench-rollout.ts";

const TORCH = spawnSync("/usr/bin/python3", ["-c", "import torch"]).status === 0;
let dir = "";

beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "baton-bench-rollout-")), "model");
  const tokenizer = await trainCharTokenizer([FIXED_PROMPTS.join("\n")]);
  const config: GptConfig = {
    ...DEFAULT_GPT_CONFIG,
    nLayer: 2,
    nHead: 2,
    nEmbd: 16,
    blockSize: 64,
    vocabSize: tokenizer.vocabSize,
  };
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 48271) + 11) % 2147483647) / 2147483647 - 0.5;
  const tensors = new Map<string, F32Tensor>(
    gptTensorSpecs(config).map((spec) => {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const norm = /ln_(\d|f)\.weight$/.test(spec.name); // layer-norm gains 1, like a trained model's
      return [spec.name, { shape: spec.shape, data: Float32Array.from({ length: n }, () => (norm ? 1 : rnd())) }];
    }),
  );
  await saveHfFolder(dir, { config, tensors, tokenizer });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs the command in-process and returns its one JSON line, parsed. */
async function bench(extra: string[]): Promise<Record<string, any>> {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  const code = await runRolloutBench([
    "--checkpoint",
    dir,
    "--rows",
    "3",
    "--tokens",
    "5",
    "--rounds",
    "1",
    "--threads",
    "1",
    "--torch-threads",
    "1",
    "--json",
    ...extra,
  ]);
  expect(code).toBe(0);
  expect(log).toHaveBeenCalledTimes(1);
  return JSON.parse(log.mock.calls[0]?.[0] as string) as Record<string, any>;
}

describe("baton bench rollout", () => {
  it("reports both Baton sides and the PyTorch side, and greedy tokens agree", { timeout: 60_000 }, async () => {
    const r = await bench([]);
    expect(r).toMatchObject({
      bench: "rollout",
      rows: 3,
      tokens: 5,
      rounds: 1,
      temperature: 1,
      model: { nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 64 },
    });
    expect(r.prompts).toMatchObject({ source: "fixed", distinct: 3, skippedTooLong: 0 });
    for (const side of [r.baton.batched, r.baton.rowByRow, r.ratios.batchedOverRowByRow]) {
      expect(side.runs).toHaveLength(1);
      expect(side.median).toBeGreaterThan(0);
      expect(side.min).toBeLessThanOrEqual(side.max);
    }
    expect(r.baton).toMatchObject({
      threads: 1,
      blas: expect.stringMatching(/^MLAS \(onnxruntime-node \d+\.\d+\.\d+\)$/),
    });
    expect(r.machine).toMatchObject({
      cores: expect.any(Number),
      cpu: expect.any(String),
      loadAvgPerRound: [expect.any(Number)],
    });
    expect(r.greedy).toMatchObject({ rows: 3, tokens: 5, rowByRowMatchesBatched: true });
    if (TORCH) {
      expect(r.torch).toMatchObject({
        available: true,
        python: "/usr/bin/python3",
        blas: expect.any(String),
        best: { threads: 1 },
      });
      expect(r.torch.byConfig.map((c: { linear: string }) => c.linear)).toEqual(["blas", "mkldnn"]);
      expect(r.ratios.batchedOverTorch.runs).toHaveLength(1);
      expect(r.greedy.torchMatchesBaton, JSON.stringify(r.greedy.mismatches)).toBe(true);
      expect(r.greedy.mismatches).toEqual([]);
    } else {
      expect(r.torch).toMatchObject({ available: false, reason: expect.stringContaining("torch") });
      expect(r.greedy.torchMatchesBaton).toBeNull();
      expect(r.ratios.batchedOverTorch).toBeUndefined();
    }
  });

  it("measures Baton alone, saying why, when the python is missing", { timeout: 60_000 }, async () => {
    const r = await bench(["--python", "/no/such/python3", "--rows", "2"]);
    expect(r.torch).toMatchObject({
      available: false,
      python: "/no/such/python3",
      reason: expect.stringContaining("ENOENT"),
    });
    expect(r.ratios.batchedOverTorch).toBeUndefined();
    expect(r.baton.batched.runs).toHaveLength(1);
    expect(r.greedy).toMatchObject({ rows: 2, torchMatchesBaton: null, rowByRowMatchesBatched: true });
  });

  it("says what is wrong with a prompt that leaves no room, a missing checkpoint or a bad flag", async () => {
    await expect(runRolloutBench(["--checkpoint", dir, "--tokens", "60", "--json"])).rejects.toThrow(
      /leaves room for --tokens.*at most 4 prompt tokens fit.*fewer --tokens/,
    );
    await expect(runRolloutBench(["--rows", "2"])).rejects.toThrow(CliError);
    await expect(runRolloutBench(["--checkpoint", join(dir, "nope")])).rejects.toThrow(
      /--checkpoint: .*no config.json/,
    );
    await expect(runRolloutBench(["--checkpoint", dir, "--torch-linear", "cuda"])).rejects.toThrow(
      /--torch-linear takes blas, mkldnn/,
    );
  });
});
