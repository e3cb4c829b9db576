// `baton sample <checkpoint>`: continue a prompt with a trained (or imported HF GPT-2) model through
// the KV-cache decoding graph, printing tokens as they come.
import { loadModelFolder, Sampler } from "@baton/model";
import { CliError, numberFlag, parseCommandArgs } from "../args.ts";

const USAGE = `usage: baton sample <checkpoint-dir> [--prompt TEXT] [options]

  --prompt TEXT        text to continue (default: start from BOS)
  --max-tokens N       new tokens at most (default 256)
  --temperature X      0 = greedy (default 0.8)
  --top-k N            keep the N most likely tokens (default 200; 0 = all)
  --top-p X            nucleus: keep the most likely tokens up to probability X (default 1 = all)
  --seed N             (default 0)
  --threads N          (default 2)
  --json               print one JSON object {prompt, completion, tokens, finishReason} instead of streaming`;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(
    argv,
    {
      prompt: { type: "string" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-k": { type: "string" },
      "top-p": { type: "string" },
      seed: { type: "string" },
      threads: { type: "string" },
      json: { type: "boolean" },
    },
    USAGE,
  );
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new CliError(`give exactly one checkpoint folder, got ${positionals.length}\n\n${USAGE}`);
  const dir = positionals[0] as string;
  const folder = await loadModelFolder(dir).catch((e: Error) => {
    throw new CliError(e.message);
  });
  const { config, params, tokenizer } = folder;
  const prompt = v.prompt ?? "";
  let ids: number[];
  try {
    ids = prompt.length > 0 ? tokenizer.encode(prompt) : [tokenizer.special.bos];
  } catch (e) {
    throw new CliError(`--prompt: ${(e as Error).message}`); // e.g. a character the char tokenizer never saw
  }
  const topP = numberFlag("top-p", v["top-p"], 1, 0);
  if (!(topP > 0 && topP <= 1)) throw new CliError(`--top-p must be in (0, 1], got "${v["top-p"]}"`);
  const opts = {
    maxTokens: Math.floor(numberFlag("max-tokens", v["max-tokens"], 256, 0)),
    temperature: numberFlag("temperature", v.temperature, 0.8, 0),
    topK: Math.floor(numberFlag("top-k", v["top-k"], 200, 0)),
    topP,
    seed: Math.floor(numberFlag("seed", v.seed, 0, 0)),
    stopTokens: [tokenizer.special.eos],
  };
  const sampler = await Sampler.create(config, params, { threads: Math.floor(numberFlag("threads", v.threads, 2, 1)) });
  try {
    // decode incrementally: a BPE token may end inside a multi-byte character, so print the new suffix
    let printed = "";
    const produced: number[] = [];
    if (!v.json) process.stdout.write(prompt);
    const gen = await sampler.generate(ids, {
      ...opts,
      onToken: (id) => {
        if (v.json) return;
        produced.push(id);
        const text = tokenizer.decode(produced, { skipSpecial: true });
        if (text.length > printed.length && !text.endsWith("\uFFFD")) {
          process.stdout.write(text.slice(printed.length));
          printed = text;
        }
      },
    });
    const completion = tokenizer.decode(gen.tokens, { skipSpecial: true });
    if (v.json) console.log(JSON.stringify({ prompt, completion, tokens: gen.tokens, finishReason: gen.finishReason }));
    else process.stdout.write(`${completion.slice(printed.length)}\n`);
    return 0;
  } finally {
    await sampler.dispose();
  }
}
