import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.ts";
import type { SafeTensor } from "./safetensors.ts";
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from "./safetensors.ts";

function bytes(t: SafeTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function sample(): Map<string, SafeTensor> {
  const f32 = new Float32Array([1.5, -0, NaN, Infinity, 1e-40, 3.4e38]);
  new Uint32Array(f32.buffer)[2] = 0x7fc01234; // a NaN payload must survive bit for bit
  return new Map<string, SafeTensor>([
    ["h.0.weight", { dtype: "F32", shape: [2, 3], data: f32 }],
    ["half", { dtype: "F16", shape: [3], data: f32ToF16([1, -2.5, 65504]) }],
    ["brain", { dtype: "BF16", shape: [1, 2], data: f32ToBf16([1, -3.25]) }],
    ["ids", { dtype: "I64", shape: [2], data: new BigInt64Array([-1n, 2n ** 40n]) }],
    ["i32", { dtype: "I32", shape: [1], data: new Int32Array([-7]) }],
    ["mask", { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) }],
    ["f64", { dtype: "F64", shape: [], data: new Float64Array([Math.PI]) }],
    ["empty", { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

async function tmp(name: string): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "st-")), name);
}

describe("safetensors", () => {
  it("reloads every dtype bit-identically, from a file and from bytes, with metadata", async () => {
    const path = await tmp("m.safetensors");
    const tensors = sample();
    await writeSafetensors(path, tensors, { metadata: { format: "pt", step: "12" } });
    const fromFile = await readSafetensors(path);
    const fromBytes = decodeSafetensors(encodeSafetensors(tensors, { format: "pt", step: "12" }));
    expect(new Uint8Array(await readFile(path))).toEqual(encodeSafetensors(tensors, { format: "pt", step: "12" }));
    for (const loaded of [fromFile, fromBytes]) {
      expect(loaded.metadata).toEqual({ format: "pt", step: "12" });
      expect([...loaded.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
      for (const [name, t] of tensors) {
        const got = loaded.tensors.get(name)!;
        expect(got.dtype).toBe(t.dtype);
        expect(got.shape).toEqual(t.shape);
        expect(got.data.constructor).toBe(t.data.constructor);
        expect(bytes(got)).toEqual(bytes(t));
      }
    }
  });

  it("aligns the data to 8 bytes and lays tensors widest dtype first", () => {
    const out = encodeSafetensors(sample());
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + n))) as Record<
      string,
      { dtype: string; data_offsets: [number, number] }
    >;
    const width: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, BOOL: 1 };
    for (const e of Object.values(header)) expect(e.data_offsets[0] % width[e.dtype]!).toBe(0);
  });

  it("reads a file written by hand from the format's definition", () => {
    const header = JSON.stringify({ __metadata__: { a: "b" }, x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } });
    const file = new Uint8Array(8 + header.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(new TextEncoder().encode(header), 8);
    file.set(new Uint8Array(new Float32Array([0.25, -4]).buffer), 8 + header.length);
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ a: "b" });
    expect([...(tensors.get("x")!.data as Float32Array)]).toEqual([0.25, -4]);
  });

  it("converts half and bfloat16 with round-to-nearest-even", () => {
    expect([...f32ToF16([1, 65504, 0.1, -2, 1e-8, 70000, 2 ** -24])]).toEqual([
      0x3c00, 0x7bff, 0x2e66, 0xc000, 0, 0x7c00, 1,
    ]);
    expect([...f16ToF32(new Uint16Array([0x3c00, 0x0001, 0xfc00]))]).toEqual([1, 2 ** -24, -Infinity]);
    expect([...f32ToBf16([1, -3.25, 1.00390625])]).toEqual([0x3f80, 0xc050, 0x3f80]); // 1+2^-8 is a tie: rounds to even
    expect([...bf16ToF32(new Uint16Array([0x3f80, 0x4049]))]).toEqual([1, 3.140625]);
  });

  describe("corrupt input gives a clear error", () => {
    const good = encodeSafetensors(sample());
    const withHeader = (header: object, data = 16) => {
      const text = JSON.stringify(header);
      const out = new Uint8Array(8 + text.length + data);
      new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
      out.set(new TextEncoder().encode(text), 8);
      return out;
    };
    it("truncated file", async () => {
      const path = await tmp("cut.safetensors");
      await writeFile(path, good.subarray(0, good.length - 3));
      await expect(readSafetensors(path)).rejects.toThrow(
        /cut.safetensors: the header needs \d+ bytes of tensor data but the file holds \d+; the file is truncated/,
      );
    });
    it("header length past the end", () => {
      expect(() => decodeSafetensors(good.subarray(0, 40), "m.safetensors")).toThrow(
        /m.safetensors: header length \d+ runs past the end of the 40-byte file/,
      );
      expect(() => decodeSafetensors(new Uint8Array(3), "m.safetensors")).toThrow(/too short/);
    });
    it("bad header JSON", () => {
      const bad = good.slice();
      bad[9] = 0x7b; // '{{'
      expect(() => decodeSafetensors(bad, "m.safetensors")).toThrow(
        /m.safetensors: the header is not valid UTF-8 JSON/,
      );
    });
    it("overlapping offsets, holes, wrong sizes, unknown dtypes", () => {
      expect(() =>
        decodeSafetensors(
          withHeader({
            a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
            b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
          }),
          "m",
        ),
      ).toThrow(/tensor b \(bytes 4..12\) overlaps tensor a \(bytes 0..8\)/);
      expect(() =>
        decodeSafetensors(withHeader({ a: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }), "m"),
      ).toThrow(/bytes 0..8 of the data belong to no tensor/);
      expect(() =>
        decodeSafetensors(withHeader({ a: { dtype: "F32", shape: [3], data_offsets: [0, 16] } }), "m"),
      ).toThrow(/tensor a: F32 \[3\] needs 12 bytes but data_offsets \[0, 16\] span 16/);
      expect(() =>
        decodeSafetensors(withHeader({ a: { dtype: "F8_E4M3", shape: [16], data_offsets: [0, 16] } }), "m"),
      ).toThrow(/tensor a: unsupported dtype "F8_E4M3"/);
    });
    it("refuses to write a shape that does not match the data", () => {
      expect(() => encodeSafetensors({ w: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } })).toThrow(
        /tensor w: shape \[2,2\] holds 4 elements but the data has 3/,
      );
      expect(() => encodeSafetensors({ w: { dtype: "F16", shape: [1], data: new Float32Array(1) } })).toThrow(
        /tensor w: dtype F16 needs a Uint16Array, got a Float32Array/,
      );
    });
  });
});
