// Forward-only programs from the same traced model code: sampling, scoring, evaluation (with a
// KV cache expressed as ordinary inputs/outputs, see API.md), and export of a plain ONNX model.
import type ort from "onnxruntime-node";
import { type AnyTypedArray, fmtShape, numel } from "./dtype.ts";
import { checkFeeds, type Feeds } from "./feeds.ts";
import { ParamLayout, type ParamSlot } from "./layout.ts";
import { Emitter } from "./lower.ts";
import type { OnnxValueInfo } from "./onnx/model.ts";
import { TraceError } from "./ops.ts";
import { buildModel, flatParamEmitter, isParamInput, paramInput } from "./plan.ts";
import { rngKey } from "./random.ts";
import { Program, type SessionConfig } from "./runner.ts";
import type { Graph, Tensor } from "./tensor.ts";

export interface InferenceConfig extends SessionConfig {
  graph: Graph;
  outputs: Record<string, Tensor>;
  /** initial parameters come from each param's init with this seed until loadParams */
  seed?: number;
  /**
   * Seed for `random` nodes (dropout). Required when the outputs depend on one: inference graphs are
   * normally traced with dropout 0, and a forgotten dropout should fail here, not blur every answer.
   */
  randomSeed?: number;
}

export class InferenceProgram {
  /** the program's own flat buffer, made on first need: a run before any weights, loadParams, params */
  private own: { flat: Float32Array; feeds: Record<string, ort.Tensor> } | null = null;
  /** the caller's arrays after useParams, which runs are fed instead of the own buffer until loadParams */
  private borrowed: { arrays: Map<ParamSlot, Float32Array>; feeds: Record<string, ort.Tensor> } | null = null;
  private readonly paramSlots: ParamSlot[];
  private constructor(
    readonly layout: ParamLayout,
    private readonly program: Program,
    readonly userInputs: OnnxValueInfo[],
    private readonly seed: number,
    paramInputs: readonly OnnxValueInfo[],
  ) {
    this.paramSlots = paramInputs.map((i) => {
      const slot = layout.slots.find((s) => paramInput(s.name) === i.name);
      if (!slot) throw new TraceError("compileInference", `input ${i.name} is not a parameter of this graph`);
      return slot;
    });
  }

  /** zero-copy tensors over `arrays` (by slot), one per parameter input */
  private wrap(array: (s: ParamSlot) => Float32Array): Record<string, ort.Tensor> {
    return Object.fromEntries(
      this.paramSlots.map((s) => [paramInput(s.name), Program.tensor({ data: array(s), dims: s.shape })]),
    );
  }

  private ownBuffer(): { flat: Float32Array; feeds: Record<string, ort.Tensor> } {
    if (!this.own) {
      const flat = this.layout.init(this.seed);
      const views = this.layout.views(flat);
      this.own = { flat, feeds: this.wrap((s) => views.get(s.name) as Float32Array) };
    }
    return this.own;
  }

  static async compile(cfg: InferenceConfig): Promise<InferenceProgram> {
    for (const t of Object.values(cfg.outputs))
      if (t.graph !== cfg.graph) throw new TraceError("compileInference", `output ${t} is not from this graph`);
    const layout = new ParamLayout(cfg.graph);
    const built = buildModel(flatParamEmitter(layout, cfg.graph.hasRandom), "inference", cfg.outputs);
    const program = await Program.open(built.model, cfg);
    const user = built.inputs.filter((i) => i.name !== "rng.seed" && !isParamInput(i.name));
    const prog = new InferenceProgram(
      layout,
      program,
      user,
      cfg.seed ?? 0,
      built.inputs.filter((i) => isParamInput(i.name)),
    );
    if (built.inputs.some((i) => i.name === "rng.seed")) {
      if (cfg.randomSeed === undefined) {
        await program.dispose();
        throw new TraceError(
          "compileInference",
          "the outputs depend on random numbers (dropout p > 0?); trace inference graphs with dropout 0, or pass randomSeed",
        );
      }
      prog.extra["rng.seed"] = Program.tensor({ data: BigInt64Array.of(rngKey(cfg.randomSeed)), dims: [] });
    }
    return prog;
  }

  private readonly extra: Record<string, ort.Tensor> = {};

  /** Runs the forward graph; returns every output by name. */
  async run(feeds: Feeds): Promise<Record<string, AnyTypedArray>> {
    checkFeeds(feeds, this.userInputs, "inference");
    const ins: Record<string, ort.Tensor> = { ...this.extra };
    Object.assign(ins, (this.borrowed ?? this.ownBuffer()).feeds);
    for (const i of this.userInputs)
      ins[i.name] = Program.tensor({ data: feeds[i.name] as AnyTypedArray, dims: i.dims });
    const fetches: Record<string, null> = {};
    for (const n of this.program.outputNames) fetches[n] = null;
    return this.program.run(ins, fetches);
  }

  /** Copy the weights in: later runs use them whatever happens to `map`. */
  loadParams(map: ReadonlyMap<string, Float32Array>): void {
    this.layout.pack(map, this.ownBuffer().flat);
    this.borrowed = null;
  }
  /**
   * Run on the caller's arrays themselves, without a copy (an evaluation between train steps, on
   * the train step's own buffer: at gpt2-124m that is 0.5 GB not duplicated). They must hold these
   * values for as long as runs use them; loadParams goes back to the program's own copy.
   */
  useParams(map: ReadonlyMap<string, Float32Array>): void {
    const arrays = this.layout.check(map);
    this.borrowed = { arrays, feeds: this.wrap((s) => arrays.get(s) as Float32Array) };
  }
  /** Copies of the weights the program runs on. */
  params(): Map<string, Float32Array> {
    if (!this.borrowed) return this.layout.unpack(this.ownBuffer().flat);
    return new Map([...this.borrowed.arrays].map(([s, v]) => [s.name, v.slice()]));
  }
  async dispose(): Promise<void> {
    await this.program.dispose();
  }
}

export const compileInference = (cfg: InferenceConfig): Promise<InferenceProgram> => InferenceProgram.compile(cfg);

/**
 * A self-contained ONNX model: user inputs stay inputs, parameters become initializers under their
 * own (HF-style) names, outputs keep their names. Opset 20, standard ops only.
 */
export function exportOnnx(cfg: {
  graph: Graph;
  outputs: Record<string, Tensor>;
  params: ReadonlyMap<string, Float32Array>;
}): Uint8Array {
  const em: Emitter = new Emitter((name) => {
    const info = cfg.graph.params.get(name);
    const data = cfg.params.get(name);
    if (!info) throw new TraceError("exportOnnx", `unknown parameter "${name}"`);
    if (!data || data.length !== numel(info.shape)) {
      throw new TraceError(
        "exportOnnx",
        `parameter "${name}" ${fmtShape(info.shape)} is ${data ? `${data.length} values` : "missing"}`,
      );
    }
    if (!em.initializers.some((t) => t.name === name))
      em.initializers.push({ name, dtype: "float32", dims: [...info.shape], data });
    return name;
  });
  return buildModel(em, "baton_export", cfg.outputs).model;
}
