import type { Hash } from "node:crypto";
import { createHash } from "node:crypto";
import { DatasetError } from "../errors.ts";

/**
 * Decodes a byte stream as UTF-8 while hashing the raw bytes (sha256 of exactly what was read).
 * NUL bytes or invalid UTF-8 mean a binary file: an error whatever the policy, since no line of it is
 * worth training on.
 */
export class HashingDecoder {
  readonly hash: Hash = createHash("sha256");
  bytes = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(private readonly where: string) {}

  decode(chunk: Uint8Array): string {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (chunk.includes(0)) {
      throw new DatasetError(
        `${this.where}: a NUL byte near byte ${this.bytes - chunk.length + chunk.indexOf(0)}; this looks like a binary file, not text or JSONL`,
        this.where,
      );
    }
    try {
      return this.decoder.decode(chunk, { stream: true });
    } catch {
      throw new DatasetError(
        `${this.where}: invalid UTF-8 near byte ${this.bytes - chunk.length}; datasets must be UTF-8 text`,
        this.where,
      );
    }
  }

  end(): string {
    try {
      return this.decoder.decode();
    } catch {
      throw new DatasetError(
        `${this.where}: the file ends inside a UTF-8 character; datasets must be UTF-8 text`,
        this.where,
      );
    }
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}

export interface Line {
  /** 1-based line number. */
  number: number;
  text: string;
  /** The line was longer than the cap: `text` holds only its start. */
  overLong: boolean;
}

/**
 * Splits decoded text into lines (\n or \r\n) without ever holding more than one line, and at most
 * `maxLineChars` of it: an over-long line is reported, not buffered.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  decoder: HashingDecoder,
  maxLineChars: number,
): AsyncGenerator<Line> {
  let partial = "";
  let overLong = false;
  let number = 1;
  const take = (piece: string): Line | undefined => {
    if (overLong) return undefined;
    if (partial.length + piece.length > maxLineChars) {
      partial = (partial + piece).slice(0, 200);
      overLong = true;
      return undefined;
    }
    partial += piece;
    return undefined;
  };
  const finish = (): Line => {
    const text = partial.endsWith("\r") ? partial.slice(0, -1) : partial;
    const line = { number, text, overLong };
    partial = "";
    overLong = false;
    number++;
    return line;
  };
  const feed = function* (text: string): Generator<Line> {
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) {
        take(text.slice(start));
        return;
      }
      take(text.slice(start, nl));
      yield finish();
      start = nl + 1;
    }
  };
  for await (const chunk of chunks) yield* feed(decoder.decode(chunk));
  yield* feed(decoder.end());
  if (partial.length > 0 || overLong) yield finish();
}
