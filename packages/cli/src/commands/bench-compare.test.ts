// `baton bench compare`: the arguments, the preset's mapping onto the PyTorch script, the order of a
// round's runs, the summary (medians, best thread count, round-by-round ratios, equal loss) and the
// table, on made-up runs (no timing is asserted); then one short run of the command itself, with the
// PyTorch side where /usr/bin/python3 imports torch and reported unavailable, with the reason, where not.
import { spawnSync } from "node:child_process";
import { getPreset, presetModel } from "@baton/model";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CliError } from "../args.ts";
import {
  compareSides,
  DEFAULT_DATA,
  formatCompare,
  lossCheck,
  parseCompareArgs,
  roundOrder,
  runCompareBench,
  type SideRun,
  summarizeSide,
  threadList,
  torchArgs,
} from "./bench-compare.ts";

const TORCH = spawnSync("/usr/bin/python3", ["-c", "import torch"]).status === 0;

afterEach(() => {
  vi.restoreAllMocks();
});

const run = (round: number, threads: number, msPerIter: number, extra: Partial<SideRun> = {}): SideRun => ({
  round,
  threads,
  msPerIter,
  tokensPerSec: Math.round(768_000 / msPerIter),
  trainLoss: 2.5,
  valLoss: 2.6,
  valLossWholeSplit: null,
  peakRssMb: 300,
  loadAvg: 1,
  ...extra,
});

describe("bench compare: arguments", () => {
  it("takes the preset as its one positional, with the defaults it documents", () => {
    const a = parseCompareArgs(["nanogpt-baby"]);
    expect(a).toMatchObject({
      preset: "nanogpt-baby",
      data: DEFAULT_DATA,
      iters: 200,
      evalBatches: 20,
      rounds: 3,
      batonThreads: [1, 2],
      torchThreads: [1, 2],
      python: "/usr/bin/python3",
      lossTolerance: 0.05,
      json: false,
    });
    expect(a.train).toMatchObject({
      preset: "nanogpt-baby",
      data: [DEFAULT_DATA],
      tokenizer: "char",
      iters: "200",
      "eval-batches": "20",
    });
    expect(DEFAULT_DATA).toMatch(/tests\/fixtures\/data\/tinyshakespeare\.txt$/);
  });

  it("passes training options through and reads thread lists", () => {
    const a = parseCompareArgs([
      "tiny",
      "--iters",
      "50",
      "--rounds",
      "5",
      "--threads",
      "2",
      "--torch-threads",
      "1,2,4",
      "--lr",
      "3e-3",
      "--seed",
      "7",
      "--json",
    ]);
    expect(a).toMatchObject({ iters: 50, rounds: 5, batonThreads: [2], torchThreads: [1, 2, 4], json: true });
    expect(a.train).toMatchObject({ lr: "3e-3", seed: "7", iters: "50" });
    expect(a.train).not.toHaveProperty("threads");
    expect(threadList("threads", undefined, [1, 2])).toEqual([1, 2]);
    expect(threadList("threads", " 2, 1 ", [1])).toEqual([2, 1]);
  });

  it("refuses what one side could not run the same way, naming the flag", () => {
    expect(() => parseCompareArgs([])).toThrow(/one preset name, got none/);
    expect(() => parseCompareArgs(["tiny", "nanogpt-baby"])).toThrow(CliError);
    expect(() => parseCompareArgs(["tiny", "--tokenizer", "bpe"])).toThrow(/--tokenizer: .*character-level/);
    expect(() => parseCompareArgs(["tiny", "--data", "a.txt", "--data", "b.txt"])).toThrow(/--data: .*one text file/);
    expect(() => parseCompareArgs(["tiny", "--val", "v.txt"])).toThrow(/--val/);
    expect(() => parseCompareArgs(["tiny", "--threads", "1,1"])).toThrow(/twice/);
    expect(() => parseCompareArgs(["tiny", "--torch-threads", "0"])).toThrow(/--torch-threads must be/);
    expect(() => parseCompareArgs(["tiny", "--rounds", "1.5"])).toThrow(/--rounds must be an integer/);
    expect(() => parseCompareArgs(["tiny", "--iters", "2"])).toThrow(/--iters must be a number >= 3/);
  });
});

describe("bench compare: the PyTorch side's arguments", () => {
  const prep = (name: string, over: Record<string, number> = {}) => {
    const preset = getPreset(name);
    return {
      model: presetModel(preset, 72),
      hyper: { ...preset.train, iters: 200, decayIters: 200, ...over },
      options: { seed: 1337 },
    } as unknown as Parameters<typeof torchArgs>[0];
  };

  it("gives the script the preset's model (same vocabulary), schedule, optimizer and seed", () => {
    const args = torchArgs(prep("nanogpt-baby"), { data: "/d.txt", threads: 2, whole: true });
    expect(Object.fromEntries(args.map((x) => x.split("=")))).toEqual({
      data: "/d.txt",
      n_layer: "4",
      n_head: "4",
      n_embd: "128",
      block_size: "64",
      vocab: "72",
      bias: "0",
      dropout: "0",
      batch_size: "12",
      max_iters: "200",
      lr: "0.001",
      min_lr: "0.0001",
      warmup: "100",
      lr_decay_iters: "200",
      beta1: "0.9",
      beta2: "0.99",
      weight_decay: "0.1",
      grad_clip: "1",
      eval_interval: "0",
      eval_iters: "20",
      seed: "1337",
      threads: "2",
      whole: "1",
    });
    expect(torchArgs(prep("nanogpt-shakespeare-char"), { data: "/d.txt", threads: 1, whole: false })).toEqual(
      expect.arrayContaining(["dropout=0.2", "n_embd=384", "block_size=256", "whole=0", "threads=1"]),
    );
    expect(torchArgs(prep("tiny"), { data: "/d.txt", threads: 1, whole: false })).toContain("bias=1");
  });

  it("refuses gradient accumulation, which the script does not do", () => {
    expect(() => torchArgs(prep("gpt2-124m"), { data: "/d.txt", threads: 1, whole: false })).toThrow(
      /accumulates 40 micro-batches/,
    );
  });
});

describe("bench compare: summary", () => {
  // Baton at 1 and 2 threads, PyTorch at 1 and 2, three rounds
  const baton = [
    run(1, 1, 30),
    run(1, 2, 20, { valLossWholeSplit: 2.31 }),
    run(2, 1, 32),
    run(2, 2, 24),
    run(3, 1, 31),
    run(3, 2, 22, { peakRssMb: 320 }),
  ];
  const torch = [
    run(1, 1, 40, { valLossWholeSplit: 2.33 }),
    run(1, 2, 90),
    run(2, 1, 44),
    run(2, 2, 100),
    run(3, 1, 42),
    run(3, 2, 95),
  ];

  it("takes medians and ranges by thread count and picks the best by median tokens/s", () => {
    const s = summarizeSide(baton);
    expect(s.byThreads.map((t) => [t.threads, t.msPerIter.median, t.msPerIter.min, t.msPerIter.max])).toEqual([
      [1, 31, 30, 32],
      [2, 22, 20, 24],
    ]);
    expect(s.best).toMatchObject({ threads: 2, msPerIter: 22 });
    expect(s.peakRssMb).toBe(320);
    expect(s.loss).toEqual({ valLossWholeSplit: 2.31, valLoss: 2.6, trainLoss: 2.5 });
    expect(summarizeSide(torch).best.threads).toBe(1);
  });

  it("takes ratios round by round: best against best, and at equal threads", () => {
    const r = compareSides(baton, torch);
    expect(r.best).toMatchObject({ batonThreads: 2, torchThreads: 1 });
    // per round tokens/s ratio = torch ms / baton ms (same tokens per step on both sides)
    r.best.runs.forEach((x, i) => expect(x).toBeCloseTo([40 / 20, 44 / 24, 42 / 22][i]!, 2));
    expect(r.best.median).toBeCloseTo(42 / 22, 2);
    expect(r.sameThreads.map((s) => s.threads)).toEqual([1, 2]);
    expect(r.sameThreads[1]!.median).toBeCloseTo(95 / 22, 2);
  });

  it("calls the losses equal within the tolerance, and says when it cannot compare", () => {
    expect(lossCheck(2.31, 2.33, 0.05)).toMatchObject({ diff: -0.02, equal: true });
    expect(lossCheck(2.41, 2.33, 0.05)).toMatchObject({ diff: 0.08, equal: false });
    expect(lossCheck(2.31, null, 0.05)).toMatchObject({ diff: null, equal: null });
  });

  it("orders a round as Baton then PyTorch at each thread count", () => {
    expect(roundOrder([1, 2], [1, 2])).toEqual([
      { side: "baton", threads: 1 },
      { side: "torch", threads: 1 },
      { side: "baton", threads: 2 },
      { side: "torch", threads: 2 },
    ]);
    expect(roundOrder([2], [1, 2])).toEqual([
      { side: "torch", threads: 1 },
      { side: "baton", threads: 2 },
      { side: "torch", threads: 2 },
    ]);
    expect(roundOrder([1, 2], null)).toEqual([
      { side: "baton", threads: 1 },
      { side: "baton", threads: 2 },
    ]);
  });

  it("prints a table with each side's rows, the ratios, the loss check, BLAS and the machine", () => {
    const text = formatCompare({
      preset: "nanogpt-baby",
      iters: 200,
      rounds: 3,
      baton: { blas: "MLAS (onnxruntime-node 1.30.0)", ...summarizeSide(baton) },
      torch: {
        available: true,
        torch: "1.13.0a0",
        blas: "generic",
        blasLibrary: ["/usr/lib/libopenblasp-r0.3.21.so"],
        params: 804992,
        ...summarizeSide(torch),
      },
      ratios: compareSides(baton, torch),
      loss: lossCheck(2.31, 2.33, 0.05),
      machine: { cpu: "AMD EPYC", cores: 2, node: "v20.20.2", loadAvgStart: [1, 1, 1], loadAvgEnd: [2, 1, 1] },
    });
    const lines = text.split("\n");
    expect(lines[0]).toBe("bench compare nanogpt-baby: 200 iterations a run, 3 round(s), alternating");
    expect(lines[1]).toBe("machine: AMD EPYC x 2, Node v20.20.2, load 1 1 1 -> 2 1 1");
    expect(lines.find((l) => l.startsWith("baton ") && / 2 /.test(l))).toMatch(
      /22\.00 \(20\.00-24\.00\)\s+34910 \(32000-38400\)\s+320$/,
    );
    expect(lines.filter((l) => l.startsWith("pytorch "))).toHaveLength(2);
    expect(text).toContain("best vs best (2 vs 1 thr): 1.91 (1.83-2.00)x");
    expect(text).toContain("at 2 thread(s) each: 4.32 (4.17-4.50)x");
    expect(text).toContain(
      "whole-split val loss after 200 steps: baton 2.31, pytorch 2.33, difference -0.02: equal within 0.05",
    );
    expect(text).toContain(
      "BLAS: baton MLAS (onnxruntime-node 1.30.0); pytorch 1.13.0a0, BLAS_INFO=generic (/usr/lib/libopenblasp-r0.3.21.so)",
    );
    const alone = formatCompare({
      preset: "tiny",
      iters: 5,
      rounds: 1,
      baton: { blas: "MLAS", ...summarizeSide(baton) },
      torch: { available: false, reason: "no torch" },
      ratios: null,
      loss: lossCheck(2.31, null, 0.05),
      machine: { cpu: "x", cores: 2, node: "v20", loadAvgStart: [0], loadAvgEnd: [0] },
    });
    expect(alone).toContain("pytorch: not measured: no torch");
    expect(alone).toContain("not compared");
    expect(alone.split("\n").filter((l) => l.startsWith("pytorch "))).toHaveLength(0);
  });
});

describe("bench compare: the command", () => {
  async function compare(extra: string[]): Promise<Record<string, any>> {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const code = await runCompareBench([
      "tiny",
      "--iters",
      "5",
      "--rounds",
      "1",
      "--threads",
      "1",
      "--torch-threads",
      "1",
      "--eval-batches",
      "2",
      "--json",
      ...extra,
    ]);
    expect(code).toBe(0);
    expect(log).toHaveBeenCalledTimes(1);
    return JSON.parse(log.mock.calls[0]?.[0] as string) as Record<string, any>;
  }

  it("measures Baton alone, saying why, when the python is missing", { timeout: 60_000 }, async () => {
    const r = await compare(["--python", "/no/such/python3"]);
    expect(r).toMatchObject({
      bench: "compare",
      preset: "tiny",
      iters: 5,
      rounds: 1,
      ratios: null,
      torch: { available: false, python: "/no/such/python3", reason: expect.stringContaining("ENOENT") },
    });
    expect(r.baton.byThreads).toHaveLength(1);
    expect(r.baton.runs).toHaveLength(1);
    expect(r.baton.loss.valLossWholeSplit).toBeGreaterThan(0);
    expect(r.loss).toMatchObject({ equal: null, torch: null });
    expect(r.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
  });

  it("runs both sides where /usr/bin/python3 has torch (else says why not)", { timeout: 120_000 }, async () => {
    const r = await compare([]);
    expect(r.baton.runs).toHaveLength(1);
    if (TORCH) {
      expect(r.torch).toMatchObject({
        available: true,
        python: "/usr/bin/python3",
        blas: expect.any(String),
        best: { threads: 1 },
      });
      expect(r.torch.params).toBe(r.baton.params); // the same model on both sides
      expect(r.ratios.best.runs).toHaveLength(1);
      expect(r.loss.diff).toEqual(expect.any(Number));
    } else {
      expect(r.torch).toMatchObject({ available: false, reason: expect.stringContaining("torch") });
      expect(r.ratios).toBeNull();
    }
  });
});
