// ONNX ModelProto / GraphProto / NodeProto / TensorProto, written with ProtoWriter.
// Field numbers follow onnx/onnx.proto (IR version 9, opset 20).
import { type AnyTypedArray, type DType, ONNX_DTYPE } from "../dtype.ts";
import { ProtoWriter } from "./proto.ts";

export const OPSET = 20;
const IR_VERSION = 9;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | OnnxTensor;

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

export interface OnnxTensor {
  name: string;
  dtype: DType;
  dims: number[];
  data: AnyTypedArray;
}

export interface OnnxValueInfo {
  name: string;
  dtype: DType;
  dims: number[];
  /** names of dynamic axes (ONNX dim_param, e.g. "batch_size"), by axis; such an axis's `dims` entry is ignored */
  dimParams?: readonly (string | null)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, t.name);
  // raw_data is little-endian bytes of the elements; bool is one byte each, as in Uint8Array
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeAttr(w: ProtoWriter, name: string, v: AttrValue): void {
  w.string(1, name);
  if (typeof v === "number") {
    w.int(3, v);
    w.int(20, 2); // INT
  } else if (typeof v === "string") {
    w.string(4, v);
    w.int(20, 3); // STRING
  } else if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    w.int(20, 7); // INTS
  } else if ("float" in v) {
    w.float(2, v.float);
    w.int(20, 1); // FLOAT
  } else if ("floats" in v) {
    for (const x of v.floats) w.float(7, x);
    w.int(20, 6); // FLOATS
  } else {
    w.message(5, (m) => writeTensor(m, v));
    w.int(20, 4); // TENSOR
  }
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, ONNX_DTYPE[v.dtype]);
      tt.message(2, (shape) => {
        v.dims.forEach((d, i) => {
          const param = v.dimParams?.[i];
          shape.message(1, (dim) => (param ? dim.string(2, param) : dim.int(1, d)));
        });
      });
    }),
  );
}

/**
 * Nodes are written last first. onnxruntime runs a graph in the order of a depth-first walk back
 * from its outputs that takes a node's inputs from the highest node index down; over the file's
 * reversed order that walk takes the earliest-traced input first, so it runs the train step much as it
 * was traced (forward, then backward layer by layer, then the update), instead of materialising
 * backward-pass values (weight transposes, for one) long before their use. On gpt2-124m that cut the
 * step's peak RSS by 300 MB (BENCH.md). Node names keep the traced position.
 */
function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i] as OnnxNode;
    w.message(1, (m) => {
      for (const x of n.inputs) m.string(1, x);
      for (const x of n.outputs) m.string(2, x);
      m.string(3, `${n.op}_${i}`);
      m.string(4, n.op);
      for (const [k, v] of Object.entries(n.attrs ?? {})) m.message(5, (a) => writeAttr(a, k, v));
      if (n.domain) m.string(7, n.domain);
    });
  }
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** Serialise a graph as an ONNX model (onnx.ModelProto bytes). */
export function encodeModel(g: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, "baton");
  w.message(7, (m) => writeGraph(m, g));
  w.message(8, (m) => {
    m.string(1, "");
    m.int(2, OPSET);
  });
  if (g.nodes.some((n) => n.domain === "com.microsoft")) {
    w.message(8, (m) => {
      m.string(1, "com.microsoft");
      m.int(2, 1);
    });
  }
  return w.finish();
}
