// In-graph random numbers, a pure function of the fed per-run key "rng.seed" (int64, < 2^32; see
// rngKey) and each node's salt, so a resumed run draws the same dropout masks.
//
// Cost is what matters: attention dropout draws [B,H,T,T] numbers per layer. A tensor of shape
// [...rows, cols] gets two small tables of full 32-bit hashes, R [rows] and C [cols] (int64
// arithmetic, exact), and each element is then ONE Xor and ONE wrapping int32 Mul:
//   h[k, j] = (R[k] ^ C[j]) * M   (int32, wraps mod 2^32)
// Within a row the values are independent uniform 32-bit words (C is fully hashed); the odd
// multiplier scrambles the fixed XOR difference between two rows, so rows do not repeat each other.
// A Bernoulli mask is then one int32 compare (3 passes over 4-byte words in all, where the float64
// sine hash this replaces made ~14 passes over 8-byte ones).
import { numel } from "./dtype.ts";
import type { LowerCtx } from "./lower-context.ts";
import type { Tensor } from "./tensor.ts";

const MASK32 = 0xffffffff;
/** odd multiplier of the per-element step (< 2^31 so it is a positive int32) */
const ELEMENT_MUL = 0x2c1b3c6d;
const GOLDEN = 0x9e3779b9;

/** A 32-bit avalanche mix (Wellons' 2-round xorshift-multiply, constants < 2^31 so int64 never overflows). */
export function mix32(x: number): number {
  let v = x >>> 0;
  v = (v ^ (v >>> 16)) >>> 0;
  v = Math.imul(v, 0x21f0aaad) >>> 0;
  v = (v ^ (v >>> 15)) >>> 0;
  v = Math.imul(v, 0x735a2d97) >>> 0;
  return (v ^ (v >>> 15)) >>> 0;
}

/** The per-run key fed as "rng.seed": a 32-bit mix of (seed, step, micro-batch). */
export function rngKey(seed: number, step = 0, micro = 0): bigint {
  let k = mix32(Math.trunc(seed) ^ GOLDEN);
  k = mix32(k ^ Math.trunc(step));
  k = mix32(k ^ Math.imul(Math.trunc(micro) + 1, GOLDEN));
  return BigInt(k);
}

/** mix32 as ONNX int64 nodes on values in [0, 2^32). */
function mixNodes(cx: LowerCtx, x: string): string {
  const i64 = (v: number) => cx.constant(BigInt64Array.of(BigInt(v)), []);
  const xorShift = (v: string, s: number) => cx.emit("BitwiseXor", [v, cx.emit("Div", [v, i64(2 ** s)])]);
  const mulMask = (v: string, m: number) => cx.emit("BitwiseAnd", [cx.emit("Mul", [v, i64(m)]), i64(MASK32)]);
  return xorShift(mulMask(xorShift(mulMask(xorShift(x, 16), 0x21f0aaad), 15), 0x735a2d97), 15);
}

/** int32 words of t's shape, uniform over all 2^32 values. */
function randomWords(cx: LowerCtx, t: Tensor, salt: number): string {
  const shape = t.shape.length ? [...t.shape] : [1];
  const cols = shape.at(-1) as number;
  const rows = numel(shape) / cols;
  const i64 = (v: number) => cx.constant(BigInt64Array.of(BigInt(v)), []);
  // this node's base: mix(key ^ salt * golden), so nodes of one step draw unrelated tables
  const base = mixNodes(cx, cx.emit("BitwiseXor", [cx.rngSeed(), i64(Math.imul(salt, GOLDEN) >>> 0)]));
  // counters 0..rows+cols-1: R is the first rows, C the last cols
  const counters = cx.emit("Range", [i64(0), i64(rows + cols), i64(1)]);
  const hashed = mixNodes(cx, cx.emit("BitwiseXor", [counters, base]));
  const words = cx.emit("Cast", [cx.emit("Sub", [hashed, i64(2 ** 31)])], { to: 6 }); // [0,2^32) -> int32, exact
  const R = cx.emit("Reshape", [
    cx.emit("Slice", [words, cx.ints([0]), cx.ints([rows]), cx.ints([0])]),
    cx.ints([...shape.slice(0, -1), 1]),
  ]);
  const C = cx.emit("Slice", [words, cx.ints([rows]), cx.ints([rows + cols]), cx.ints([0])]);
  const h = cx.emit("Mul", [cx.emit("BitwiseXor", [R, C]), cx.constant(Int32Array.of(ELEMENT_MUL), [])]);
  return t.shape.length ? h : cx.emit("Reshape", [h, cx.ints([])]);
}

/** Uniform [0, 1): the top 24 bits of each word, exact in float32 and float64. */
export function lowerUniform(cx: LowerCtx, t: Tensor, salt: number): string {
  const top24 = cx.emit("BitwiseAnd", [randomWords(cx, t, salt), cx.constant(Int32Array.of(-256), [])]); // multiples of 2^8 in [-2^31, 2^31)
  const f64 = t.dtype === "float64";
  const c = (v: number) => cx.constant(f64 ? Float64Array.of(v) : Float32Array.of(v), []);
  const f = cx.emit("Cast", [top24], { to: f64 ? 11 : 1 });
  return cx.emit("Add", [cx.emit("Mul", [f, c(2 ** -32)]), c(0.5)]);
}

/** Bool, true with probability p (to 2^-32): one compare of the words against a threshold. */
export function lowerBernoulli(cx: LowerCtx, t: Tensor, salt: number, p: number): string {
  const threshold = Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), Math.round(p * 2 ** 32) - 2 ** 31));
  return cx.emit("Less", [randomWords(cx, t, salt), cx.constant(Int32Array.of(threshold), [])]);
}
