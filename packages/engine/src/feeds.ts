// Checking what callers feed against what the trace declared, before onnxruntime sees it.
import { type AnyTypedArray, dtypeOfArray, fmtShape, numel } from "./dtype.ts";
import type { OnnxValueInfo } from "./onnx/model.ts";

export type Feeds = Record<string, AnyTypedArray>;

/** Throws naming the feed, the expected dtype and shape, and what was given. */
export function checkFeeds(feeds: Feeds, wanted: readonly OnnxValueInfo[], where: string): void {
  const names = new Set(wanted.map((w) => w.name));
  for (const k of Object.keys(feeds)) {
    if (!names.has(k))
      throw new Error(
        `${where}: unknown feed "${k}"; this program takes ${[...names].map((n) => `"${n}"`).join(", ") || "no feeds"}`,
      );
  }
  for (const w of wanted) {
    const v = feeds[w.name];
    if (!v) throw new Error(`${where}: feed "${w.name}" (${w.dtype} ${fmtShape(w.dims)}) is missing`);
    const dt = dtypeOfArray(v);
    if (dt !== w.dtype)
      throw new Error(
        `${where}: feed "${w.name}" must be ${w.dtype} ${fmtShape(w.dims)}, got a ${v.constructor.name} (${dt})`,
      );
    if (v.length !== numel(w.dims)) {
      throw new Error(
        `${where}: feed "${w.name}" has ${v.length} values, expected ${w.dtype} ${fmtShape(w.dims)} = ${numel(w.dims)}`,
      );
    }
  }
}
