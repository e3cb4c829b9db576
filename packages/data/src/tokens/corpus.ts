import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TextCodec } from "../codec.ts";
import { DatasetError } from "../errors.ts";
import type { BadRecordPolicy, DatasetReport } from "../read/reader.ts";
import { readDataset } from "../read/reader.ts";
import type { SourceOpener } from "../read/source.ts";
import type { TokenFileMeta } from "./cache.ts";
import { reusableTokenFile } from "./cache.ts";
import { TokenFile, TokenFileWriter, tokenDtypeFor } from "./token-file.ts";

function notText(rec: { kind: string; where: string }): DatasetError {
  return new DatasetError(
    `${rec.where}: a language-model corpus takes text files or {"text"} JSONL, not ${rec.kind} records`,
    rec.where,
  );
}

export interface CorpusOptions {
  /** Text files or {"text"} JSONL; each document is followed by EOS. */
  train: string[];
  /** Held-out sources; when absent, the last `valFraction` of the train tokens is the val split. */
  val?: string[];
  /** Default 0.1 (nanoGPT's 90/10 split), used only without `val`. */
  valFraction?: number;
  tokenizer: TextCodec;
  /** Where the token files go (created). */
  dir: string;
  policy?: BadRecordPolicy;
  maxChars?: number;
  opener?: SourceOpener;
  /**
   * Names the tokenizer (e.g. the sha256 of its tokenizer.json). With it, token files already in `dir`
   * from the same sources (checked by sha256) and the same key are reused instead of re-tokenising.
   */
  cacheKey?: string;
}

export interface TokenCorpus {
  train: TokenFile;
  val: TokenFile;
  /** One report per source, in order: uri + sha256 go into the manifest. */
  datasets: DatasetReport[];
  documents: { train: number; val: number };
  /** True when the token files were reused from `dir` (see cacheKey). */
  reused: boolean;
  close(): void;
}

/**
 * Tokenises the sources once, streaming, into token files under `dir` (uint16 when the vocabulary
 * fits, else uint32). Only one document (or one chunk of a text file) is in memory at a time.
 */
export async function buildTokenCorpus(options: CorpusOptions): Promise<TokenCorpus> {
  const { tokenizer, dir } = options;
  const dtype = tokenDtypeFor(tokenizer.vocabSize);
  await mkdir(dir, { recursive: true });
  const datasets: DatasetReport[] = [];
  let reused = true;

  async function write(uris: string[], name: string): Promise<{ file: TokenFile; documents: number }> {
    if (uris.length === 0)
      throw new DatasetError(`no ${name} sources given; name at least one text or {"text"} JSONL dataset`);
    const path = join(dir, `${name}.tokens`);
    const metaPath = join(dir, `${name}.tokens.json`);
    if (options.cacheKey) {
      const meta = await reusableTokenFile({
        path,
        metaPath,
        uris,
        cacheKey: options.cacheKey,
        dtype,
        ...(options.opener && { opener: options.opener }),
      });
      if (meta) {
        datasets.push(...meta.reports);
        return { file: TokenFile.open(path, dtype, meta.length), documents: meta.documents };
      }
    }
    reused = false;
    await rm(metaPath, { force: true }); // an interrupted rewrite must never look reusable
    const reports: DatasetReport[] = [];
    const writer = new TokenFileWriter(path, dtype);
    let documents = 0;
    try {
      for (const uri of uris) {
        const ds = readDataset(uri, {
          format: "auto",
          ...(options.policy && { policy: options.policy }),
          ...(options.maxChars && { maxChars: options.maxChars }),
          ...(options.opener && { opener: options.opener }),
        });
        let stream = tokenizer.createStreamEncoder();
        for await (const rec of ds) {
          if (rec.kind !== "text") throw notText(rec);
          writer.push(stream.push(rec.text));
          if (rec.end) {
            writer.push(stream.flush());
            writer.push([tokenizer.special.eos]);
            documents++;
            stream = tokenizer.createStreamEncoder();
          }
        }
        reports.push(ds.report());
      }
    } finally {
      writer.close();
    }
    datasets.push(...reports);
    const meta: TokenFileMeta = {
      dtype,
      length: writer.length,
      documents,
      vocabSize: tokenizer.vocabSize,
      ...(options.cacheKey && { cacheKey: options.cacheKey }),
      reports,
    };
    await writeFile(metaPath, JSON.stringify(meta, null, 2));
    return { file: TokenFile.open(path, dtype, writer.length), documents };
  }

  const train = await write(options.train, "train");
  if (options.val && options.val.length > 0) {
    const val = await write(options.val, "val");
    return {
      train: train.file,
      val: val.file,
      datasets,
      documents: { train: train.documents, val: val.documents },
      reused,
      close: () => {
        train.file.close();
        val.file.close();
      },
    };
  }
  const fraction = options.valFraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1)) throw new DatasetError(`valFraction must be in (0, 1), got ${fraction}`);
  const n = train.file.length;
  const split = Math.floor(n * (1 - fraction));
  return {
    train: train.file.slice(0, split),
    val: train.file.slice(split, n),
    datasets,
    documents: { train: train.documents, val: 0 },
    reused,
    close: () => train.file.close(),
  };
}

/**
 * The text of language-model sources, streamed (text files in chunks, {"text"} JSONL record by record,
 * "\n" after each document): what a tokenizer is trained on. Never holds a whole file.
 */
export async function* corpusTexts(
  uris: string[],
  options: { policy?: BadRecordPolicy; opener?: SourceOpener } = {},
): AsyncGenerator<string> {
  for (const uri of uris) {
    for await (const rec of readDataset(uri, {
      format: "auto",
      ...(options.policy && { policy: options.policy }),
      ...(options.opener && { opener: options.opener }),
    })) {
      if (rec.kind !== "text") throw notText(rec);
      yield rec.text;
      if (rec.end) yield "\n";
    }
  }
}
