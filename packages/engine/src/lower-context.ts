// What a lowering rule sees of the Emitter. Its own file so that lowerings written beside the
// feature they lower (random.ts) and the table that collects them (lower.ts) both depend on it and
// not on each other.
import type { AnyTypedArray } from "./dtype.ts";
import type { AttrValue, OnnxNode } from "./onnx/model.ts";

/** What a lowering rule may do: emit ONNX nodes and reference constants and leaves. */
export interface LowerCtx {
  /** Emit one node; returns its (fresh) output name. */
  emit(op: string, inputs: string[], attrs?: Record<string, AttrValue>, domain?: string): string;
  /** The node emitted last (to attach extra outputs). */
  lastNode(): OnnxNode;
  /** A 1-D int64 initializer (shapes, axes, pads), shared between uses. */
  ints(values: number[]): string;
  /** A constant initializer. */
  constant(data: AnyTypedArray, dims: number[]): string;
  /** The ONNX value of a `param` leaf (an input, or a slice of the flat parameter buffer). */
  param(name: string): string;
  /** The scalar int64 key of this run (< 2^32): a pure function of (seed, step, micro-batch); see random.ts. */
  rngSeed(): string;
}
