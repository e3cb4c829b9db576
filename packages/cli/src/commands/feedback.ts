// `baton feedback simulate <checkpoint> --prompts <file> --k 4 --out rankings.jsonl`: K sampled
// responses per prompt from a checkpoint, ranked by the demo's rule rater (right answer, then
// stopped at EOS, then shorter), written as the ranking records the reward stage reads.
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DatasetError } from "@baton/data";
import { readPromptTexts, simulateRankings } from "@baton/stage-lm";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton feedback simulate <checkpoint-dir> --prompts <file.jsonl> --out <rankings.jsonl> [options]

  --prompts FILE     instructions (alpaca, chat, prompt/completion) or rankings whose prompts to answer
  --out FILE         where the ranking records go (JSONL)
  --k N              responses per prompt, 2..9 (default 4)
  --limit N          the first N prompts only (default all)
  --max-tokens N     new tokens per response at most (default 32)
  --temperature X    sampling temperature (default 1)
  --seed N           (default 0)
  --threads N        (default 2)

The rule rater knows the demo's instruction tasks only; a person's rankings (the same records) come
from the ranking page.`;

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === "--help" || verb === "-h" || verb === undefined) {
    console.log(USAGE);
    return verb === undefined ? 2 : 0;
  }
  if (verb !== "simulate") throw new CliError(`unknown feedback command "${verb}"\n\n${USAGE}`);
  const { values: v, positionals } = parseCommandArgs(
    rest,
    {
      prompts: { type: "string" },
      out: { type: "string" },
      k: { type: "string" },
      limit: { type: "string" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      seed: { type: "string" },
      threads: { type: "string" },
    },
    USAGE,
  );
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new CliError(`give exactly one checkpoint folder, got ${positionals.length}\n\n${USAGE}`);
  if (!v.prompts || !v.out) throw new CliError(`--prompts and --out are required\n\n${USAGE}`);
  const k = numberFlag("k", v.k, 4, 2);
  if (!Number.isInteger(k) || k > 9) throw new CliError(`--k must be an integer in 2..9, got "${v.k}"`);
  const dir = resolve(positionals[0] as string);
  let prompts: string[];
  try {
    prompts = await readPromptTexts([pathToFileURL(resolve(v.prompts)).href], {
      policy: "fail",
      maxChars: 100_000,
      opener: () => undefined,
    });
  } catch (e) {
    if (e instanceof DatasetError) throw new CliError(`--prompts: ${e.message}`);
    throw e;
  }
  const limit = v.limit === undefined ? prompts.length : Math.floor(numberFlag("limit", v.limit, 0, 1));
  const records = await simulateRankings(dir, prompts.slice(0, limit), {
    k,
    maxTokens: Math.floor(numberFlag("max-tokens", v["max-tokens"], 32, 1)),
    temperature: numberFlag("temperature", v.temperature, 1, 0),
    seed: Math.floor(numberFlag("seed", v.seed, 0, 0)),
    threads: Math.floor(numberFlag("threads", v.threads, 2, 1)),
    checkpointUri: `${pathToFileURL(dir).href}/`,
  }).catch((e: Error) => {
    throw new CliError(e.message);
  });
  await writeFile(resolve(v.out), records.map((r) => JSON.stringify(r)).join("\n") + (records.length > 0 ? "\n" : ""));
  console.log(`ranked ${records.length} prompts x ${k} responses from ${dir} -> ${resolve(v.out)}`);
  return 0;
}
