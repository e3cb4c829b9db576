// `baton bench rollout`: tokens/s of the KV-cache sampler on a checkpoint, in rounds that alternate
// Baton's batched sampler (every row in one model call per token), Baton's one-row sampler row by
// row, and a PyTorch KV-cache sampler on the same weights, so the ratios come from one sitting. Each
// row makes exactly --tokens tokens (no stop token): tokens/s = rows * tokens / seconds, prefill
// included. One greedy check per invocation: PyTorch's greedy tokens must equal Baton's.
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chatTemplateOf, DatasetError } from "@baton/data";
import { loadHfFolder, Sampler } from "@baton/model";
import { promptIds, readPromptTexts } from "@baton/stage-lm";
import { CliError, integerFlag, parseCommandArgs } from "../args.ts";
import { onnxruntimeVersion, ratios, type Spread, spread } from "./bench-stats.ts";
import { type TorchInfo, TorchSampler } from "./torch-sampler.ts";

export const ROLLOUT_USAGE = `usage: baton bench rollout --checkpoint <dir> [--rows 32] [--tokens 24] [--rounds 5] [--threads 2] [--json]

Alternates, for --rounds rounds: Baton's batched sampler on all rows, Baton's sampler row by row, and
PyTorch's KV-cache sampler (packages/model/src/trainer/baseline/kv_sampler.py) on the same weights at
each of --torch-threads. Temperature 1, seed = row number, no stop token: every row makes exactly
--tokens tokens. Reports tokens/s (rows * tokens / seconds, prefill included) as median and range,
the per-round ratios, threads and BLAS of each side, the machine and its load, and whether greedy
tokens of the first rows are the same from PyTorch and Baton.

  --checkpoint DIR     an HF-style folder: config.json, model.safetensors, tokenizer.json
  --prompts FILE       instructions or rankings (JSONL): the first --rows prompts that leave room for
                       --tokens in the block, each rendered as one user turn by the checkpoint's chat
                       template (default: 8 fixed short questions); repeated to fill the rows
  --rows N             rows sampled at once (default 32)
  --tokens N           new tokens per row (default 24)
  --rounds N           timed rounds of each side (default 5), after one untimed warm-up
  --threads N          onnxruntime threads (default 2)
  --torch-threads L    comma-separated torch thread counts to run (default 1,2)
  --torch-linear L     torch's linear layers: blas (a GEMM in the system libblas.so.3), mkldnn (the
                       oneDNN torch bundles), or both, each run at each thread count (default blas,mkldnn)
  --python PATH        the python with torch (default /usr/bin/python3); without torch only Baton's
                       sides are measured, and the report says why
  --json               print one JSON object`;

/** The default prompts: questions of the demo's kinds, short enough to leave room in a 64-token block. */
export const FIXED_PROMPTS = [
  "ok, plural of cooky:",
  "so, give the first letter of skil.",
  "ok, say jis twice.",
  "so, last letter of lamp:",
  "ok, give the plural of raik.",
  "ok, first letter of heerey:",
  "ok, repeat house twice.",
  "so, last letter of fool:",
];
const GREEDY_ROWS = 4;

const FLAGS = {
  checkpoint: { type: "string" },
  prompts: { type: "string" },
  rows: { type: "string" },
  tokens: { type: "string" },
  rounds: { type: "string" },
  threads: { type: "string" },
  "torch-threads": { type: "string" },
  "torch-linear": { type: "string" },
  python: { type: "string" },
  json: { type: "boolean" },
} as const;

/**
 * The rows' prompt ids: the first `rows` prompts of --prompts (or the fixed ones) that leave room for
 * `tokens` new tokens in the block, each rendered as one user turn, repeated to fill `rows` when fewer.
 */
async function rowPrompts(file: string | undefined, rows: number, render: (text: string) => number[], room: number) {
  let all = FIXED_PROMPTS;
  if (file) {
    try {
      all = await readPromptTexts([pathToFileURL(resolve(file)).href], {
        policy: "fail",
        maxChars: 100_000,
        opener: () => undefined,
      });
    } catch (e) {
      if (e instanceof DatasetError) throw new CliError(`--prompts: ${e.message}`);
      throw e;
    }
  }
  const fitting: number[][] = [];
  let tooLong = 0;
  for (const [i, text] of all.entries()) {
    if (fitting.length === rows) break;
    let ids: number[];
    try {
      ids = render(text);
    } catch (e) {
      throw new CliError(
        `prompt ${i + 1} (${JSON.stringify(text)}): ${(e as Error).message}; give --prompts whose text the checkpoint's tokenizer can encode`,
      );
    }
    if (ids.length <= room) fitting.push(ids);
    else tooLong++;
  }
  if (fitting.length === 0) {
    throw new CliError(
      `none of the ${all.length} prompts${file ? ` of ${file}` : ""} leaves room for --tokens new tokens (at most ${room} prompt tokens fit); give shorter prompts or fewer --tokens`,
    );
  }
  const ids = Array.from({ length: rows }, (_, i) => fitting[i % fitting.length] as number[]);
  return { ids, source: file ? resolve(file) : "fixed", distinct: fitting.length, skippedTooLong: tooLong };
}

export async function runRolloutBench(argv: string[]): Promise<number> {
  const { values: v } = parseCommandArgs(argv, FLAGS, ROLLOUT_USAGE, false);
  if (v.help) {
    console.log(ROLLOUT_USAGE);
    return 0;
  }
  if (!v.checkpoint) throw new CliError(`--checkpoint is required\n\n${ROLLOUT_USAGE}`);
  const rows = integerFlag("rows", v.rows, 32, 1);
  const tokens = integerFlag("tokens", v.tokens, 24, 1);
  const rounds = integerFlag("rounds", v.rounds, 5, 1);
  const threads = integerFlag("threads", v.threads, 2, 1);
  const torchThreads = (v["torch-threads"] ?? "1,2")
    .split(",")
    .map((t) => integerFlag("torch-threads", t.trim(), 1, 1));
  const linears = (v["torch-linear"] ?? "blas,mkldnn").split(",").map((l) => l.trim());
  for (const l of linears)
    if (l !== "blas" && l !== "mkldnn")
      throw new CliError(`--torch-linear takes blas, mkldnn or both (comma-separated), got "${l}"`);
  const torchConfigs = torchThreads.flatMap((threads) => linears.map((linear) => ({ threads, linear })));
  const python = v.python ?? "/usr/bin/python3";
  const dir = resolve(v.checkpoint);
  const load0 = loadavg();

  const folder = await loadHfFolder(dir).catch((e: Error) => {
    throw new CliError(`--checkpoint: ${e.message}`);
  });
  const { config, tokenizer } = folder;
  const template = chatTemplateOf(folder.tokenizerConfig);
  const render = (text: string) => promptIds(tokenizer, template, text);
  const { ids: prompts, ...promptSource } = await rowPrompts(v.prompts, rows, render, config.blockSize - tokens);
  const params = new Map([...folder.tensors].map(([k, t]) => [k, t.data]));
  const sampling = (i: number, temperature: number) => ({ maxTokens: tokens, temperature, seed: i, stopTokens: [] });

  const sampler = await Sampler.create(config, params, { threads });
  const torch = await TorchSampler.start(python, dir);
  try {
    const batched = (ps: number[][], temperature: number) =>
      sampler.generateBatch(ps.map((prompt, i) => ({ prompt, options: sampling(i, temperature) })));
    const rowByRow = async (ps: number[][], temperature: number) => {
      const out = [];
      for (const [i, p] of ps.entries()) out.push(await sampler.generate(p, sampling(i, temperature)));
      return out;
    };
    const timed = async (f: () => Promise<{ tokens: number[] }[]>): Promise<number> => {
      const t0 = performance.now();
      const gens = await f();
      const seconds = (performance.now() - t0) / 1000;
      const wrong = gens.findIndex((g) => g.tokens.length !== tokens);
      if (wrong >= 0)
        throw new Error(`bench rollout: row ${wrong} made ${gens[wrong]?.tokens.length} tokens, expected ${tokens}`);
      return (rows * tokens) / seconds;
    };

    // the greedy check, which also compiles the batch-of-GREEDY_ROWS programs
    const few = prompts.slice(0, GREEDY_ROWS);
    const baton = (await batched(few, 0)).map((g) => g.tokens);
    const single = (await rowByRow(few, 0)).map((g) => g.tokens);
    const reference: Record<string, number[][]> = {}; // torch's greedy tokens, by linear mode
    if ("sampler" in torch)
      for (const linear of linears)
        reference[`torch-${linear}`] = (
          await torch.sampler.generate(few, {
            tokens,
            temperature: 0,
            seed: 0,
            threads: torchThreads[0] as number,
            linear,
          })
        ).tokens;
    const same = (a: number[][], b: number[][]) => a.every((r, i) => r.join() === b[i]?.join());
    const greedy = {
      rows: few.length,
      tokens,
      torchMatchesBaton: "sampler" in torch ? Object.values(reference).every((r) => same(r, baton)) : null,
      rowByRowMatchesBatched: same(single, baton),
      mismatches: few.flatMap((_, i) => {
        const rowsOf = {
          batched: baton[i],
          rowByRow: single[i],
          ...Object.fromEntries(Object.entries(reference).map(([k, r]) => [k, r[i]])),
        };
        return Object.values(rowsOf).every((r) => r?.join() === baton[i]?.join()) ? [] : [{ row: i, ...rowsOf }];
      }),
    };

    // warm-up: compiles Baton's batch-of-rows programs and runs each side once, untimed
    await batched(prompts, 1);
    await rowByRow(prompts.slice(0, 1), 1);
    if ("sampler" in torch)
      for (const c of torchConfigs) await torch.sampler.generate(prompts, { tokens, temperature: 1, seed: 0, ...c });

    const runs = { batched: [] as number[], rowByRow: [] as number[], torch: torchConfigs.map(() => [] as number[]) };
    const loads: number[] = [];
    for (let r = 0; r < rounds; r++) {
      runs.batched.push(await timed(() => batched(prompts, 1)));
      runs.rowByRow.push(await timed(() => rowByRow(prompts, 1)));
      if ("sampler" in torch) {
        for (const [i, c] of torchConfigs.entries()) {
          const g = await torch.sampler.generate(prompts, { tokens, temperature: 1, seed: r, ...c });
          runs.torch[i]?.push((rows * tokens) / g.seconds);
        }
      }
      loads.push(loadavg()[0] as number);
    }

    const torchSide = torchReport(torch, torchConfigs, runs.torch, python);
    const best = torchSide.available ? runs.torch[torchSide.best.index] : undefined;
    const round2 = (x: number) => +x.toFixed(2);
    const result = {
      bench: "rollout",
      checkpoint: dir,
      model: {
        nLayer: config.nLayer,
        nHead: config.nHead,
        nEmbd: config.nEmbd,
        blockSize: config.blockSize,
        vocabSize: config.vocabSize,
      },
      rows,
      tokens,
      rounds,
      temperature: 1,
      prompts: {
        ...promptSource,
        tokensMin: Math.min(...prompts.map((p) => p.length)),
        tokensMax: Math.max(...prompts.map((p) => p.length)),
      },
      baton: {
        threads,
        blas: `MLAS (onnxruntime-node ${onnxruntimeVersion()})`,
        batched: spread(runs.batched),
        rowByRow: spread(runs.rowByRow),
      },
      torch: torchSide,
      ratios: {
        batchedOverRowByRow: ratios(runs.batched, runs.rowByRow),
        ...(best
          ? { batchedOverTorch: ratios(runs.batched, best), rowByRowOverTorch: ratios(runs.rowByRow, best) }
          : {}),
      },
      greedy,
      machine: {
        cpu: cpus()[0]?.model ?? "unknown",
        cores: cpus().length,
        loadAvgStart: load0.map(round2),
        loadAvgEnd: loadavg().map(round2),
        loadAvgPerRound: loads.map(round2),
      },
    };
    if (v.json) console.log(JSON.stringify(result));
    else printReport(result);
    if (greedy.torchMatchesBaton === false || !greedy.rowByRowMatchesBatched) {
      console.error(
        `bench rollout: GREEDY MISMATCH on ${greedy.mismatches.length} of ${greedy.rows} rows: PyTorch and Baton (or Baton batched and row by row) choose different tokens at temperature 0; the rows are under greedy.mismatches`,
      );
    }
    return 0;
  } finally {
    if ("sampler" in torch) torch.sampler.close();
    await sampler.dispose();
  }
}

type TorchConfig = { threads: number; linear: string };

/** The PyTorch side: each (threads, linear) configuration's spread, and the best by median. */
function torchReport(
  torch: Awaited<ReturnType<typeof TorchSampler.start>>,
  configs: TorchConfig[],
  runs: number[][],
  python: string,
) {
  if (!("sampler" in torch)) return { available: false as const, python, reason: torch.unavailable };
  const byConfig = configs.map((c, i) => ({ ...c, ...spread(runs[i] as number[]) }));
  const index = byConfig.reduce((a, b, i) => (b.median > (byConfig[a] as { median: number }).median ? i : a), 0);
  const best = byConfig[index] as TorchConfig & Spread;
  const info: TorchInfo = torch.info;
  return {
    available: true as const,
    python,
    torch: info.torch,
    blas: info.blas,
    blasLibrary: info.blasLibrary,
    mkldnn: info.mkldnn,
    byConfig,
    best: { index, threads: best.threads, linear: best.linear, median: best.median },
  };
}

type RolloutReport = {
  rows: number;
  tokens: number;
  baton: { threads: number; blas: string; batched: Spread; rowByRow: Spread };
  torch: ReturnType<typeof torchReport>;
  ratios: Record<string, Spread>;
  greedy: { rows: number; torchMatchesBaton: boolean | null; rowByRowMatchesBatched: boolean };
  machine: { cpu: string; cores: number; loadAvgStart: number[]; loadAvgEnd: number[] };
};

function printReport(r: RolloutReport): void {
  const line = (name: string, s: Spread) =>
    console.log(
      `${name.padEnd(28)} ${s.median.toFixed(0).padStart(8)} tokens/s  (${s.min.toFixed(0)}-${s.max.toFixed(0)})`,
    );
  console.log(
    `${r.rows} rows x ${r.tokens} tokens, ${r.machine.cpu} x ${r.machine.cores}, load ${r.machine.loadAvgStart.join(" ")} -> ${r.machine.loadAvgEnd.join(" ")}`,
  );
  line(`baton batched (${r.baton.threads} thr)`, r.baton.batched);
  line(`baton row by row (${r.baton.threads} thr)`, r.baton.rowByRow);
  if (r.torch.available) for (const t of r.torch.byConfig) line(`torch ${t.linear} (${t.threads} thr)`, t);
  else console.log(`torch                        unavailable: ${r.torch.reason}`);
  for (const [k, s] of Object.entries(r.ratios))
    console.log(`${k.padEnd(28)} ${s.median.toFixed(2).padStart(8)}x        (${s.min.toFixed(2)}-${s.max.toFixed(2)})`);
  console.log(
    `BLAS: baton ${r.baton.blas}; torch ${r.torch.available ? `${r.torch.torch}, BLAS_INFO=${r.torch.blas} (${r.torch.blasLibrary.join(" ")}); best: ${r.torch.best.linear} at ${r.torch.best.threads} thread(s)` : "-"}`,
  );
  const match =
    r.greedy.torchMatchesBaton === null ? "not checked (no torch)" : r.greedy.torchMatchesBaton ? "yes" : "NO";
  console.log(
    `greedy tokens of the first ${r.greedy.rows} rows: torch = baton ${match}; batched = row by row ${r.greedy.rowByRowMatchesBatched ? "yes" : "NO"}`,
  );
}
