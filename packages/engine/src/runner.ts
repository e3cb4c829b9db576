// The only file that imports onnxruntime-node. A Program is one InferenceSession plus the
// bookkeeping to feed typed arrays and fetch into preallocated buffers.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import ort from "onnxruntime-node";
import { type AnyTypedArray, type DType, dtypeOfArray } from "./dtype.ts";

/**
 * onnxruntime-node writes a preallocated output in place and then returns a copy of it in a new
 * ArrayBuffer all the same, which the engine drops. V8 collects those lazily: at gpt2-124m's 124M
 * parameters a train step leaves 1.5 GB of such copies (weights and both Adam moments), and 1-2 GB
 * of them were still held when the next step's activations peaked (5.9 GB peak RSS instead of 4.0;
 * BENCH.md). Once this many bytes of copies have been dropped, the engine asks V8 for a full
 * collection: after every gpt2-124m step, every eighth nanogpt-shakespeare-char step, about every
 * hundredth nanogpt-baby step.
 */
export const COLLECT_AFTER_BYTES = 2 ** 30;
let dropped = 0;
let gc: (() => void) | undefined;

/** A full garbage collection (V8's own, exposed for this process on first use). */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

function discarded(bytes: number): void {
  dropped += bytes;
  if (dropped < COLLECT_AFTER_BYTES) return;
  dropped = 0;
  collectGarbage();
}

export interface SessionConfig {
  /** intra-op threads (default 2: the machines here have two cores) */
  threads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** e.g. ["cpu"] (default) or ["cuda", "cpu"]; BATON_EXECUTION_PROVIDERS=cuda,cpu overrides */
  executionProviders?: string[];
  /** "parallel" runs independent nodes concurrently on `interOpThreads` threads (default sequential) */
  executionMode?: "sequential" | "parallel";
  interOpThreads?: number;
  /**
   * Let idle intra-op threads spin between nodes (onnxruntime's default, true): lower latency on a
   * quiet machine; false yields the core, which wins when other work shares it.
   */
  spinning?: boolean;
  /**
   * onnxruntime's CPU memory arena (default true). Off, freed intermediates go back to the system
   * allocator instead of staying reserved in the arena: lower peak RSS for big steps; see BENCH.md.
   */
  memoryArena?: boolean;
  /** onnxruntime's memory pattern planning (default true): one pre-planned block per run */
  memoryPattern?: boolean;
  /**
   * Flush denormal floats to zero (onnxruntime's `session.set_denormal_as_zero`, default true). The
   * causal softmax computes exp(-103.9) ~ 1e-45, a denormal, for every masked key before it divides
   * by the row's sum, and the CPU computes on denormals many times slower: kept, they made the
   * causal softmax of nanogpt-baby 2.2x slower than flushed (BENCH.md). The probabilities come out
   * 0 either way; nanogpt-baby's losses are bit for bit the same. onnxruntime applies it to a
   * session's pool threads, and to the calling thread once per process from the first session
   * created, so every session sets it the same way.
   */
  denormalAsZero?: boolean;
  /** write onnxruntime's optimised graph here (to see what it fused) */
  optimizedModelFilePath?: string;
  /** write onnxruntime's per-node profile (JSON) with this file prefix; see Program.endProfiling */
  profileFilePrefix?: string;
}

export interface Feed {
  data: AnyTypedArray;
  dims: readonly number[];
}

const ORT_TYPE: Record<DType, "float32" | "float64" | "int64" | "int32" | "bool"> = {
  float32: "float32",
  float64: "float64",
  int64: "int64",
  int32: "int32",
  bool: "bool",
};

export function executionProviders(cfg: SessionConfig): string[] {
  const env = process.env.BATON_EXECUTION_PROVIDERS;
  if (env?.trim())
    return env
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  return cfg.executionProviders ?? ["cpu"];
}

export class Program {
  /** wall time spent inside onnxruntime's run, summed over calls (to measure what is outside it) */
  ortMs = 0;
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async open(model: Uint8Array, cfg: SessionConfig = {}): Promise<Program> {
    const threads = cfg.threads ?? 2;
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`session config: threads must be a positive integer, got ${cfg.threads}`);
    const opts: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: cfg.interOpThreads ?? 1,
      executionMode: cfg.executionMode ?? "sequential",
      graphOptimizationLevel: cfg.graphOptimizationLevel ?? "all",
      executionProviders: executionProviders(cfg),
    };
    if (cfg.memoryArena !== undefined) opts.enableCpuMemArena = cfg.memoryArena;
    if (cfg.memoryPattern !== undefined) opts.enableMemPattern = cfg.memoryPattern;
    if (cfg.optimizedModelFilePath) opts.optimizedModelFilePath = cfg.optimizedModelFilePath;
    opts.extra = {
      session: {
        set_denormal_as_zero: cfg.denormalAsZero === false ? "0" : "1",
        ...(cfg.spinning === false ? { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } : {}),
      },
    };
    if (cfg.profileFilePrefix) {
      opts.enableProfiling = true;
      opts.profileFilePrefix = cfg.profileFilePrefix;
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, opts);
    } catch (e) {
      throw new Error(
        `onnxruntime refused the compiled model (${(e as Error).message}); this is an engine bug unless the execution providers ${JSON.stringify(opts.executionProviders)} are unavailable`,
      );
    }
    return new Program(session, session.inputNames, session.outputNames);
  }

  /** Wrap a typed array without copying; reuse the result across runs for fixed buffers. */
  static tensor(f: Feed): ort.Tensor {
    return new ort.Tensor(ORT_TYPE[dtypeOfArray(f.data)], f.data as never, [...f.dims]);
  }

  /**
   * Run once. `fetches` maps output names to preallocated tensors (written in place) or null
   * (allocated by onnxruntime). Returns every fetched output's data: a preallocated output's own
   * buffer, which holds the result.
   */
  async run(
    feeds: Record<string, ort.Tensor>,
    fetches: Record<string, ort.Tensor | null>,
  ): Promise<Record<string, AnyTypedArray>> {
    const t0 = performance.now();
    const { res, copied } = await this.runOnce(feeds, fetches);
    this.ortMs += performance.now() - t0;
    discarded(copied); // runOnce has returned: its copies are garbage now
    return res;
  }

  private async runOnce(
    feeds: Record<string, ort.Tensor>,
    fetches: Record<string, ort.Tensor | null>,
  ): Promise<{ res: Record<string, AnyTypedArray>; copied: number }> {
    const out = await this.session.run(feeds, fetches as ort.InferenceSession.FetchesType);
    const res: Record<string, AnyTypedArray> = {};
    let copied = 0;
    for (const [k, v] of Object.entries(out)) {
      const given = fetches[k];
      if (given) copied += (v.data as AnyTypedArray).byteLength;
      res[k] = (given ?? v).data as AnyTypedArray;
    }
    return { res, copied };
  }

  /** Flush the profile started by `profileFilePrefix` (written into the working directory). */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
