// Small inputs for the contract suite: JSONL files written on the fly and a random-init char-level
// GPT checkpoint, so a stage that starts from a previous checkpoint can be run in seconds.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tokenizerConfigFor } from "@baton/data";
import { charTokenizerFromChars, DEFAULT_GPT_CONFIG } from "@baton/model";
import { LmSession, OPTIM_DEFAULTS, saveModel } from "@baton/stage-lm";

export async function tempDir(prefix = "baton-fixture-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes records as JSONL; returns its file:// URI. */
export async function writeJsonl(dir: string, name: string, records: readonly unknown[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${records.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n")}\n`);
  return `file://${path}`;
}

const PRINTABLE = `\n${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("")}`;

/** A random-init GPT (nLayer layers, 32 wide, block 48) with a printable-ASCII char tokenizer, saved in `dir`. */
export async function tinyCheckpoint(dir: string, o: { seed?: number; nLayer?: number } = {}): Promise<string> {
  const seed = o.seed ?? 7;
  await mkdir(dir, { recursive: true });
  const tokenizer = charTokenizerFromChars([...PRINTABLE]);
  const config = {
    ...DEFAULT_GPT_CONFIG,
    nLayer: o.nLayer ?? 1,
    nHead: 2,
    nEmbd: 32,
    blockSize: 48,
    vocabSize: tokenizer.vocabSize,
  };
  const s = await LmSession.create({ config, batchSize: 1, optim: OPTIM_DEFAULTS, seed, threads: 1 });
  await saveModel(dir, {
    config,
    weights: s.weights(),
    tokenizer,
    tokenizerConfig: tokenizerConfigFor(tokenizer, { modelMaxLength: config.blockSize }),
  });
  await s.dispose();
  return dir;
}
