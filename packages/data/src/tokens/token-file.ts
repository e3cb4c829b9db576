import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { DatasetError } from "../errors.ts";

export type TokenDtype = "uint16" | "uint32";

export function tokenDtypeFor(vocabSize: number): TokenDtype {
  return vocabSize <= 0x10000 ? "uint16" : "uint32";
}

const BYTES: Record<TokenDtype, number> = { uint16: 2, uint32: 4 };

/** Appends token ids to a raw little-endian file through a fixed buffer: memory stays flat. */
export class TokenFileWriter {
  private readonly fd: number;
  private readonly buf: Uint16Array | Uint32Array;
  private used = 0;
  length = 0;

  constructor(
    readonly path: string,
    readonly dtype: TokenDtype,
    bufferTokens = 1 << 16,
  ) {
    this.fd = openSync(path, "w");
    this.buf = dtype === "uint16" ? new Uint16Array(bufferTokens) : new Uint32Array(bufferTokens);
  }

  push(ids: ArrayLike<number>): void {
    const max = this.dtype === "uint16" ? 0xffff : 0xffffffff;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id > max) throw new DatasetError(`token id ${id} does not fit ${this.dtype} in ${this.path}`);
      this.buf[this.used++] = id;
      if (this.used === this.buf.length) this.flush();
    }
    this.length += ids.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    writeSync(this.fd, new Uint8Array(this.buf.buffer, 0, this.used * this.buf.BYTES_PER_ELEMENT));
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * A read-only window [start, start+length) of a token file, read with positioned reads, so a corpus
 * larger than memory costs only the windows being read.
 */
export class TokenFile {
  private constructor(
    private readonly fd: number,
    readonly path: string,
    readonly dtype: TokenDtype,
    private readonly start: number,
    readonly length: number,
  ) {}

  static open(path: string, dtype: TokenDtype, length: number): TokenFile {
    return new TokenFile(openSync(path, "r"), path, dtype, 0, length);
  }

  /** A sub-window, sharing the file descriptor. */
  slice(begin: number, end: number): TokenFile {
    if (begin < 0 || end > this.length || begin > end)
      throw new RangeError(`slice ${begin}..${end} outside 0..${this.length} of ${this.path}`);
    return new TokenFile(this.fd, this.path, this.dtype, this.start + begin, end - begin);
  }

  /** Copies tokens [at, at+count) of this window into `out` from `offset`. */
  readInto(at: number, count: number, out: Int32Array, offset = 0): void {
    if (at < 0 || at + count > this.length)
      throw new RangeError(`read ${at}..${at + count} outside 0..${this.length} of ${this.path}`);
    const width = BYTES[this.dtype];
    const bytes = new Uint8Array(count * width);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, (this.start + at) * width + done);
      if (n === 0) throw new DatasetError(`${this.path}: unexpected end of token file; delete it so it is rebuilt`);
      done += n;
    }
    const ids = this.dtype === "uint16" ? new Uint16Array(bytes.buffer) : new Uint32Array(bytes.buffer);
    out.set(ids, offset);
  }

  read(at: number, count: number): Int32Array {
    const out = new Int32Array(count);
    this.readInto(at, count, out);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}
