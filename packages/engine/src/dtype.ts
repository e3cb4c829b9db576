// Element types the engine traces, their JS buffers and their ONNX TensorProto codes.

export type DType = "float32" | "float64" | "int64" | "int32" | "bool";

export type TypedArrayOf<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int64"
      ? BigInt64Array
      : D extends "int32"
        ? Int32Array
        : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** onnx.TensorProto.DataType */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, float64: 11, int64: 7, int32: 6, bool: 9 };

export const DTYPE_BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, bool: 1 };

export const isFloat = (d: DType): boolean => d === "float32" || d === "float64";

export function allocate(dtype: DType, n: number): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "int32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Int32Array) return "int32";
  return "bool";
}

/** A typed array of `dtype` holding `value` once (for scalar constants). */
export function scalarArray(dtype: DType, value: number | boolean): AnyTypedArray {
  const a = allocate(dtype, 1);
  if (a instanceof BigInt64Array) a[0] = BigInt(Math.trunc(Number(value)));
  else a[0] = Number(value);
  return a;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
export const fmtShape = (shape: readonly number[]): string => `[${shape.join(",")}]`;
