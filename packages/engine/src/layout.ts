// The flat parameter layout: every parameter is a slice of ONE float32 buffer [P], decayed
// parameters first (in declaration order), then the rest. Optimizer state uses the same layout.
// Both regions are padded to a multiple of BLOCK zeros, so the buffer viewed as [P/BLOCK, BLOCK]
// takes weight decay as one broadcast multiply by a [P/BLOCK, 1] factor (no slicing).
import { rng } from "@baton/rng";
import { fmtShape, numel } from "./dtype.ts";
import { fill, hashString } from "./init.ts";
import type { Graph, ParamInfo } from "./tensor.ts";

/** alignment of the decayed region and of the total (floats) */
export const BLOCK = 64;
const alignUp = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

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
  /** length of the flat buffer (parameters plus padding) */
  readonly total: number;
  /** number of parameter values (what a model card calls its parameter count) */
  readonly count: number;
  /** parameters [0, decayed) get weight decay */
  readonly decayed: number;

  constructor(graph: Graph) {
    const all = [...graph.params.values()];
    const place = (list: ParamInfo[], from: number) => {
      let at = from;
      const slots = list.map((info) => {
        const slot = {
          name: info.name,
          shape: info.shape,
          decay: info.decay,
          offset: at,
          size: numel(info.shape),
          info,
        };
        at += slot.size;
        this.byName.set(info.name, slot);
        return slot;
      });
      return { slots, end: alignUp(at) };
    };
    const dec = place(
      all.filter((p) => p.decay),
      0,
    );
    const rest = place(
      all.filter((p) => !p.decay),
      dec.end,
    );
    this.slots = [...dec.slots, ...rest.slots];
    this.decayed = dec.end;
    this.total = rest.end;
    this.count = this.slots.reduce((n, s) => n + s.size, 0);
  }

  /** The zero-filled gaps [offset, offset + size) that padding leaves, in layout order. */
  gaps(): { offset: number; size: number }[] {
    const out: { offset: number; size: number }[] = [];
    let at = 0;
    for (const s of this.slots) {
      if (s.offset > at) out.push({ offset: at, size: s.offset - at });
      at = s.offset + s.size;
    }
    if (this.total > at) out.push({ offset: at, size: this.total - at });
    return out;
  }

  /** Fill a flat buffer from each parameter's init; each parameter has its own stream. */
  init(seed: number): Float32Array {
    const flat = new Float32Array(this.total);
    for (const s of this.slots)
      fill(flat.subarray(s.offset, s.offset + s.size), s.info.init, rng(seed ^ hashString(s.name)));
    return flat;
  }

  /** Copies of each slice of `flat`, keyed by `${prefix}${name}`. */
  unpack(flat: Float32Array, prefix = ""): Map<string, Float32Array> {
    return new Map(this.slots.map((s) => [prefix + s.name, flat.slice(s.offset, s.offset + s.size)]));
  }

  /** Views (no copies) of each slice of `flat`, keyed as unpack does: valid while `flat` holds these values. */
  views(flat: Float32Array, prefix = ""): Map<string, Float32Array> {
    return new Map(this.slots.map((s) => [prefix + s.name, flat.subarray(s.offset, s.offset + s.size)]));
  }

  /** Write `map` into `flat`; every parameter must be present with the right size. */
  pack(map: ReadonlyMap<string, Float32Array>, flat: Float32Array, prefix = "", what = "parameter"): void {
    for (const [s, v] of this.check(map, prefix, what)) flat.set(v, s.offset);
  }

  /** Each slot's array in `map`: every parameter present with the right size, nothing unknown. */
  check(map: ReadonlyMap<string, Float32Array>, prefix = "", what = "parameter"): Map<ParamSlot, Float32Array> {
    const unknown = [...map.keys()].filter((k) => !this.byName.has(k.slice(prefix.length)) || !k.startsWith(prefix));
    if (unknown.length)
      throw new Error(
        `load: unknown ${what}(s) ${unknown.slice(0, 5).join(", ")}; this model has ${this.slots
          .slice(0, 5)
          .map((s) => prefix + s.name)
          .join(", ")}...`,
      );
    const out = new Map<ParamSlot, Float32Array>();
    for (const s of this.slots) {
      const v = map.get(prefix + s.name);
      if (!v) throw new Error(`load: ${what} "${prefix + s.name}" ${fmtShape(s.shape)} is missing`);
      if (v.length !== s.size)
        throw new Error(
          `load: ${what} "${prefix + s.name}" has ${v.length} values, the model wants ${fmtShape(s.shape)} = ${s.size}`,
        );
      out.set(s, v);
    }
    return out;
  }
}
