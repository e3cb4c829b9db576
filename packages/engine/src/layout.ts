// The flat parameter layout: every parameter is a slice of ONE float32 buffer [P], decayed
// parameters first (in declaration order), then the rest. Optimizer state uses the same layout.
import { fmtShape, numel } from "./dtype.ts";
import { fill, hashString, rng } from "./init.ts";
import type { Graph, ParamInfo } from "./tensor.ts";

export interface ParamSlot {
  name: string;
  shape: number[];
  decay: boolean;
  offset: number;
  size: number;
  info: ParamInfo;
}

export class ParamLayout {
  readonly slots: ParamSlot[];
  readonly byName = new Map<string, ParamSlot>();
  readonly total: number;
  /** parameters [0, decayed) get weight decay */
  readonly decayed: number;

  constructor(graph: Graph) {
    const all = [...graph.params.values()];
    const ordered = [...all.filter((p) => p.decay), ...all.filter((p) => !p.decay)];
    let at = 0;
    this.slots = ordered.map((info) => {
      const slot = { name: info.name, shape: info.shape, decay: info.decay, offset: at, size: numel(info.shape), info };
      at += slot.size;
      this.byName.set(info.name, slot);
      return slot;
    });
    this.total = at;
    this.decayed = this.slots.filter((s) => s.decay).reduce((n, s) => n + s.size, 0);
  }

  /** Fill a flat buffer from each parameter's init; each parameter has its own stream. */
  init(seed: number): Float32Array {
    const flat = new Float32Array(this.total);
    for (const s of this.slots) fill(flat.subarray(s.offset, s.offset + s.size), s.info.init, rng(seed ^ hashString(s.name)));
    return flat;
  }

  /** Copies of each slice of `flat`, keyed by `${prefix}${name}`. */
  unpack(flat: Float32Array, prefix = ""): Map<string, Float32Array> {
    return new Map(this.slots.map((s) => [prefix + s.name, flat.slice(s.offset, s.offset + s.size)]));
  }

  /** Write `map` into `flat`; every parameter must be present with the right size. */
  pack(map: ReadonlyMap<string, Float32Array>, flat: Float32Array, prefix = "", what = "parameter"): void {
    const unknown = [...map.keys()].filter((k) => !this.byName.has(k.slice(prefix.length)) || !k.startsWith(prefix));
    if (unknown.length) throw new Error(`load: unknown ${what}(s) ${unknown.slice(0, 5).join(", ")}; this model has ${this.slots.slice(0, 5).map((s) => prefix + s.name).join(", ")}...`);
    for (const s of this.slots) {
      const v = map.get(prefix + s.name);
      if (!v) throw new Error(`load: ${what} "${prefix + s.name}" ${fmtShape(s.shape)} is missing`);
      if (v.length !== s.size) throw new Error(`load: ${what} "${prefix + s.name}" has ${v.length} values, the model wants ${fmtShape(s.shape)} = ${s.size}`);
      flat.set(v, s.offset);
    }
  }
}
