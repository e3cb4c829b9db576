import { type FileHandle, open } from "node:fs/promises";

/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { str: str } }`, then the data
 * (offsets are relative to the end of the header). The header is padded with spaces so the data starts
 * on an 8-byte boundary, and tensors are laid out widest dtype first, so every tensor is aligned.
 */
export type SafeDtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

export type SafeTypedArray =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** F16 and BF16 hold raw bits (see half.ts); BOOL holds 0/1 bytes. */
  data: SafeTypedArray;
}

export type SafeTensors = Map<string, SafeTensor>;

export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

// biome-ignore lint/suspicious/noExplicitAny: each typed array's constructor has its own overloads
type ArrayCtor = abstract new (...args: any[]) => SafeTypedArray;
const DTYPES: Record<SafeDtype, { bytes: number; array: ArrayCtor; make: (buf: ArrayBuffer) => SafeTypedArray }> = {
  F64: { bytes: 8, array: Float64Array, make: (b) => new Float64Array(b) },
  F32: { bytes: 4, array: Float32Array, make: (b) => new Float32Array(b) },
  F16: { bytes: 2, array: Uint16Array, make: (b) => new Uint16Array(b) },
  BF16: { bytes: 2, array: Uint16Array, make: (b) => new Uint16Array(b) },
  I64: { bytes: 8, array: BigInt64Array, make: (b) => new BigInt64Array(b) },
  I32: { bytes: 4, array: Int32Array, make: (b) => new Int32Array(b) },
  I16: { bytes: 2, array: Int16Array, make: (b) => new Int16Array(b) },
  I8: { bytes: 1, array: Int8Array, make: (b) => new Int8Array(b) },
  U8: { bytes: 1, array: Uint8Array, make: (b) => new Uint8Array(b) },
  BOOL: { bytes: 1, array: Uint8Array, make: (b) => new Uint8Array(b) },
};

const MAX_HEADER = 100_000_000; // the reference implementation's limit

interface Entry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

// ---------------------------------------------------------------- writing

function checkTensor(name: string, t: SafeTensor): void {
  const spec = DTYPES[t.dtype];
  if (!spec)
    throw new SafetensorsError(
      `tensor ${name}: unknown dtype ${JSON.stringify(t.dtype)}; use one of ${Object.keys(DTYPES).join(", ")}`,
    );
  if (!(t.data instanceof spec.array)) {
    throw new SafetensorsError(
      `tensor ${name}: dtype ${t.dtype} needs a ${spec.array.name}, got a ${t.data.constructor.name}`,
    );
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.some((d) => !Number.isInteger(d) || d < 0) || n !== t.data.length) {
    throw new SafetensorsError(
      `tensor ${name}: shape [${t.shape.join(",")}] holds ${n} elements but the data has ${t.data.length}`,
    );
  }
}

/** Plans the file: header bytes and the tensors in layout order. */
function plan(
  tensors: SafeTensors | Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): { header: Uint8Array; order: Array<[string, SafeTensor]>; dataBytes: number } {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  // Widest dtype first (stable), so each tensor's offset is a multiple of its element size.
  const order = entries
    .map((e, i) => [e, i] as const)
    .sort((a, b) => DTYPES[b[0][1].dtype].bytes - DTYPES[a[0][1].dtype].bytes || a[1] - b[1])
    .map(([e]) => e);
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== "string")
        throw new SafetensorsError(`__metadata__.${k}: values must be strings, got ${typeof v}`);
    json["__metadata__"] = metadata;
  }
  let offset = 0;
  for (const [name, t] of order) {
    if (name === "__metadata__") throw new SafetensorsError(`"__metadata__" is reserved and cannot name a tensor`);
    checkTensor(name, t);
    const bytes = t.data.byteLength;
    json[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(json);
  text += " ".repeat((8 - ((8 + Buffer.byteLength(text)) % 8)) % 8);
  return { header: new TextEncoder().encode(text), order, dataBytes: offset };
}

function lengthPrefix(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function bytesOf(t: SafeTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** The whole file in memory (for small checkpoints and object-store uploads). */
export function encodeSafetensors(
  tensors: SafeTensors | Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const { header, order, dataBytes } = plan(tensors, metadata);
  const out = new Uint8Array(8 + header.length + dataBytes);
  out.set(lengthPrefix(header.length), 0);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const [, t] of order) {
    out.set(bytesOf(t), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Writes tensor by tensor, never holding a second copy of the weights. */
export async function writeSafetensors(
  path: string,
  tensors: SafeTensors | Record<string, SafeTensor>,
  options: { metadata?: Record<string, string> } = {},
): Promise<void> {
  const { header, order } = plan(tensors, options.metadata);
  const fh = await open(path, "w");
  try {
    await fh.write(lengthPrefix(header.length));
    await fh.write(header);
    for (const [, t] of order) await fh.write(bytesOf(t));
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------- reading

function parseHeader(
  headerBytes: Uint8Array,
  dataBytes: number,
  where: string,
): { entries: Entry[]; metadata: Record<string, string> } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new SafetensorsError(
      `${where}: the header is not valid UTF-8 JSON (${(e as Error).message}); the file is corrupt or not safetensors`,
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new SafetensorsError(`${where}: the header must be a JSON object`);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null)
        throw new SafetensorsError(`${where}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string")
          throw new SafetensorsError(`${where}: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SafeDtype;
    if (typeof dtype !== "string" || !(dtype in DTYPES)) {
      throw new SafetensorsError(
        `${where}: tensor ${name}: unsupported dtype ${JSON.stringify(info?.dtype)} (Baton reads ${Object.keys(DTYPES).join(", ")})`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(
        `${where}: tensor ${name}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    const off = info.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((o) => Number.isInteger(o) && o >= 0) ||
      off[0] > off[1]
    ) {
      throw new SafetensorsError(
        `${where}: tensor ${name}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`,
      );
    }
    const [begin, end] = off as [number, number];
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPES[dtype].bytes;
    if (end - begin !== expected) {
      throw new SafetensorsError(
        `${where}: tensor ${name}: ${dtype} [${shape.join(",")}] needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // The data must be covered exactly once: no overlap, no hole, nothing past the end.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) {
      const prev = sorted.find((p) => p !== e && p.begin < e.end && e.begin < p.end);
      throw new SafetensorsError(
        `${where}: tensor ${e.name} (bytes ${e.begin}..${e.end}) overlaps ${prev ? `tensor ${prev.name} (bytes ${prev.begin}..${prev.end})` : "another tensor"}`,
      );
    }
    if (e.begin > at)
      throw new SafetensorsError(
        `${where}: bytes ${at}..${e.begin} of the data belong to no tensor; the header does not match the data`,
      );
    at = e.end;
  }
  if (at > dataBytes) {
    throw new SafetensorsError(
      `${where}: the header needs ${at} bytes of tensor data but the file holds ${dataBytes}; the file is truncated`,
    );
  }
  if (at < dataBytes)
    throw new SafetensorsError(
      `${where}: ${dataBytes - at} bytes after the last tensor belong to no tensor; the file is corrupt`,
    );
  return { entries, metadata };
}

function headerLength(prefix: Uint8Array, fileBytes: number, where: string): number {
  if (fileBytes < 8)
    throw new SafetensorsError(
      `${where}: ${fileBytes} bytes is too short for a safetensors file (needs an 8-byte header length)`,
    );
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER) || Number(n) > fileBytes - 8) {
    throw new SafetensorsError(
      `${where}: header length ${n} runs past the end of the ${fileBytes}-byte file; the file is truncated or not safetensors`,
    );
  }
  return Number(n);
}

function copyTensor(e: Entry, src: Uint8Array): SafeTensor {
  const buf = new ArrayBuffer(e.end - e.begin);
  new Uint8Array(buf).set(src);
  return { dtype: e.dtype, shape: e.shape, data: DTYPES[e.dtype].make(buf) };
}

function inHeaderOrder(entries: Entry[], make: (e: Entry) => SafeTensor): SafeTensors {
  const out: SafeTensors = new Map();
  for (const e of entries) out.set(e.name, make(e));
  return out;
}

export function decodeSafetensors(
  bytes: Uint8Array,
  where = "safetensors",
): { tensors: SafeTensors; metadata: Record<string, string> } {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, where);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, where);
  const tensors = inHeaderOrder(entries, (e) => copyTensor(e, bytes.subarray(dataStart + e.begin, dataStart + e.end)));
  return { tensors, metadata };
}

/** Reads tensor by tensor with positioned reads: peak memory is the tensors, not the file twice. */
export async function readSafetensors(
  path: string,
): Promise<{ tensors: SafeTensors; metadata: Record<string, string> }> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot open (${(e as Error).message})`);
  }
  try {
    const size = (await fh.stat()).size;
    const prefix = new Uint8Array(8);
    await fh.read(prefix, 0, Math.min(8, size), 0);
    const n = headerLength(prefix, size, path);
    const header = new Uint8Array(n);
    await fh.read(header, 0, n, 8);
    const dataStart = 8 + n;
    const { entries, metadata } = parseHeader(header, size - dataStart, path);
    const tensors: SafeTensors = new Map();
    for (const e of entries) {
      const buf = new Uint8Array(e.end - e.begin);
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, dataStart + e.begin + done);
        if (bytesRead === 0) throw new SafetensorsError(`${path}: tensor ${e.name}: unexpected end of file`);
        done += bytesRead;
      }
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: DTYPES[e.dtype].make(buf.buffer) });
    }
    return { tensors, metadata };
  } finally {
    await fh.close();
  }
}
