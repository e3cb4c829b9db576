import { DatasetError } from "../errors.ts";
import type { DatasetFormat, DatasetRecord, RecordOf, TextRecord } from "./formats.ts";
import { DATASET_FORMATS, formatFromKeys, recordChars, toRecord } from "./formats.ts";
import { HashingDecoder, splitLines } from "./lines.ts";
import type { SourceOpener } from "./source.ts";
import { openSource } from "./source.ts";

export type BadRecordPolicy = "skip" | "fail";

export interface ReadOptions<F extends DatasetFormat | "auto"> {
  format: F;
  /** skip: count and drop bad lines; fail: throw at the first. Default "fail". */
  policy?: BadRecordPolicy;
  /** A record whose text spans more characters is bad (default 1,000,000). */
  maxChars?: number;
  opener?: SourceOpener;
}

/** What a stage reports for each dataset (and puts in the manifest: uri + sha256). */
export interface DatasetReport {
  uri: string;
  format: DatasetFormat;
  /** sha256 of the bytes read; of the whole file once `complete`. */
  sha256: string;
  complete: boolean;
  bytes: number;
  lines: number;
  records: number;
  skipped: number;
  /** The first MAX_KEPT_ERRORS messages, `file:line: reason`. */
  errors: string[];
}

const MAX_KEPT_ERRORS = 50;
const TEXT_FILE = /\.(txt|text|md)$/i;
const JSONL_FILE = /\.(jsonl|json|ndjson)$/i;

/** Reads the first chunk to look at, and gives back a stream that still starts with it. */
async function peek(chunks: AsyncIterable<Uint8Array>): Promise<{ head: string; chunks: AsyncIterable<Uint8Array> }> {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? "" : new TextDecoder().decode(first.value.subarray(0, 256));
  async function* again(): AsyncGenerator<Uint8Array> {
    if (!first.done) yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, chunks: again() };
}

export interface Dataset<R> extends AsyncIterable<R> {
  /** Valid after (or during) iteration. */
  report(): DatasetReport;
}

type Resolved<F> = F extends DatasetFormat ? RecordOf[F] : DatasetRecord;

/**
 * Streams a dataset record by record: bytes are read in chunks, hashed, split into lines and validated
 * against schemas/datasets. Nothing holds the whole file.
 */
export function readDataset<F extends DatasetFormat | "auto">(
  uri: string,
  options: ReadOptions<F>,
): Dataset<Resolved<F>> {
  const policy = options.policy ?? "fail";
  const maxChars = options.maxChars ?? 1_000_000;
  if (options.format !== "auto" && !DATASET_FORMATS.includes(options.format as DatasetFormat)) {
    throw new DatasetError(
      `unknown dataset format ${JSON.stringify(options.format)}; use one of ${DATASET_FORMATS.join(", ")} or auto`,
    );
  }
  const report: DatasetReport = {
    uri,
    format: options.format === "auto" ? "jsonl-text" : (options.format as DatasetFormat),
    sha256: "",
    complete: false,
    bytes: 0,
    lines: 0,
    records: 0,
    skipped: 0,
    errors: [],
  };
  let decoder: HashingDecoder | undefined;

  async function* iterate(): AsyncGenerator<DatasetRecord> {
    const source = await openSource(uri, options.opener);
    report.uri = source.uri;
    decoder = new HashingDecoder(source.name);
    const bad = (where: string, reason: string): void => {
      const message = `${where}: ${reason}`;
      if (policy === "fail")
        throw new DatasetError(`${message} (policy "fail"; fix the line or use policy "skip")`, where);
      report.skipped++;
      if (report.errors.length < MAX_KEPT_ERRORS) report.errors.push(message);
    };

    // "auto": .txt/.md are text, .jsonl/.json JSONL; any other name is JSONL if it starts with "{".
    let format: DatasetFormat | "auto" = options.format;
    let chunks = source.chunks;
    if (format === "auto" && TEXT_FILE.test(source.name)) format = "text";
    else if (format === "auto" && !JSONL_FILE.test(source.name)) {
      const peeked = await peek(chunks);
      chunks = peeked.chunks;
      if (!/^\s*\{/.test(peeked.head)) format = "text";
    }
    report.format = format === "auto" ? report.format : format;

    if (format === "text") {
      // A plain text file is one document, passed on in decoded chunks.
      let pending: TextRecord | undefined;
      let sawText = false;
      for await (const chunk of chunks) {
        const text = decoder.decode(chunk);
        report.bytes = decoder.bytes;
        if (text.length === 0) continue;
        sawText ||= /\S/.test(text);
        if (pending) yield pending;
        pending = { kind: "text", text, end: false, where: source.name };
      }
      const tail = decoder.end();
      if (tail.length > 0) {
        if (pending) yield pending;
        pending = { kind: "text", text: tail, end: false, where: source.name };
      }
      if (!pending || !(sawText || /\S/.test(tail))) {
        throw new DatasetError(
          `${source.name}: the text file is empty (or only whitespace); give the corpus some text`,
          source.name,
        );
      }
      pending.end = true;
      report.lines = 1;
      report.records = 1;
      yield pending;
    } else {
      // JSON lines can hold escapes, so allow the raw line some room over maxChars before refusing it.
      for await (const line of splitLines(chunks, decoder, 6 * maxChars + 1024)) {
        report.lines = line.number;
        report.bytes = decoder.bytes;
        const where = `${source.name}:${line.number}`;
        if (line.overLong) {
          bad(where, `record is over maxChars ${maxChars} (the line alone is longer)`);
          continue;
        }
        if (line.text.trim() === "") continue; // blank lines are allowed in JSONL files
        let value: unknown;
        try {
          value = JSON.parse(line.text);
        } catch (e) {
          bad(where, `bad JSON (${(e as Error).message})`);
          continue;
        }
        if (format === "auto") {
          const guessed = formatFromKeys(value);
          if (!guessed) {
            throw new DatasetError(
              `${where}: cannot tell the dataset format from the keys ${JSON.stringify(Object.keys(value ?? {}))}; name it in the config (one of ${DATASET_FORMATS.join(", ")})`,
              where,
            );
          }
          format = guessed;
          report.format = guessed;
        }
        const rec = toRecord(format, value, where);
        if (typeof rec === "string") {
          bad(where, rec);
          continue;
        }
        const chars = recordChars(rec);
        if (chars > maxChars) {
          bad(where, `record is ${chars} chars, over maxChars ${maxChars}`);
          continue;
        }
        report.records++;
        yield rec;
      }
      if (report.records === 0) {
        const first = report.errors[0] ? ` (first problem: ${report.errors[0]})` : "";
        throw new DatasetError(
          `${source.name}: no valid records in ${report.lines} lines, ${report.skipped} skipped${first}`,
          source.name,
        );
      }
    }
    report.bytes = decoder.bytes;
    report.sha256 = decoder.digest();
    report.complete = true;
  }

  return {
    [Symbol.asyncIterator]: () => iterate() as AsyncIterator<Resolved<F>>,
    report: () => ({
      ...report,
      errors: [...report.errors],
      sha256: report.sha256 || (decoder ? decoder.hash.copy().digest("hex") : ""),
    }),
  };
}

/** Reads a whole (small) dataset into memory: for supervised sets, never for corpora. */
export async function collectDataset<F extends DatasetFormat | "auto">(
  uri: string,
  options: ReadOptions<F>,
): Promise<{ records: Array<Resolved<F>>; report: DatasetReport }> {
  const ds = readDataset(uri, options);
  const records: Array<Resolved<F>> = [];
  for await (const r of ds) records.push(r);
  return { records, report: ds.report() };
}
