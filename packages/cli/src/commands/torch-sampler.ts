// The PyTorch reference sampler of `baton bench rollout`: packages/model's kv_sampler.py kept running in
// one Python process, one JSON request per line, so rounds alternate with Baton's without paying
// Python's start-up or torch's import each time.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { KV_SAMPLER_SCRIPT } from "@baton/model";

/** What kv_sampler.py prints first: the torch build and the BLAS library it calls. */
export interface TorchInfo {
  torch: string;
  /** torch.__config__.show()'s BLAS_INFO ("generic" = the system libblas.so.3) */
  blas: string;
  /** the libblas files mapped into the process, symlinks resolved */
  blasLibrary: string[];
  mkldnn: boolean;
}

export interface TorchGeneration {
  seconds: number;
  threads: number;
  tokens: number[][];
}

/** Why the PyTorch side did not start (no such python, torch not importable, ...). */
export interface TorchUnavailable {
  unavailable: string;
}

export class TorchSampler {
  private readonly waiting: ((line: string | Error) => void)[] = [];
  private stderr = "";
  private exited: string | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly python: string,
  ) {
    createInterface({ input: child.stdout! }).on("line", (line) => this.waiting.shift()?.(line));
    child.stderr!.on("data", (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-4000)));
    const fail = (why: string) => {
      this.exited ??= why;
      for (const w of this.waiting.splice(0)) w(new Error(this.why()));
    };
    child.once("error", (e) => fail(e.message));
    child.once("exit", (code, signal) => fail(`exited with ${signal ?? `code ${code}`}`));
  }

  /** Starts kv_sampler.py on `modelDir`; resolves to why not when torch (or the python) is not there. */
  static async start(
    python: string,
    modelDir: string,
  ): Promise<{ sampler: TorchSampler; info: TorchInfo } | TorchUnavailable> {
    const child = spawn(python, [KV_SAMPLER_SCRIPT, `model=${modelDir}`], { stdio: ["pipe", "pipe", "pipe"] });
    const s = new TorchSampler(child, python);
    const first = await s.next();
    if (first instanceof Error) return { unavailable: first.message };
    return { sampler: s, info: JSON.parse(first) as TorchInfo };
  }

  private why(): string {
    const last = this.stderr.trim().split("\n").at(-1) ?? "";
    return `${this.python} ${KV_SAMPLER_SCRIPT}: ${this.exited ?? "stopped"}${last ? `: ${last}` : ""}`;
  }

  private next(): Promise<string | Error> {
    if (this.exited) return Promise.resolve(new Error(this.why()));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Generates `tokens` new tokens for every prompt in one batch; seconds as the script measured them. */
  async generate(
    prompts: number[][],
    o: { tokens: number; temperature: number; seed: number; threads: number; linear: string },
  ): Promise<TorchGeneration> {
    const answer = this.next();
    this.child.stdin!.write(`${JSON.stringify({ prompts, ...o })}\n`);
    const line = await answer;
    if (line instanceof Error) throw line;
    const r = JSON.parse(line) as TorchGeneration | { error: string };
    if ("error" in r) throw new Error(`${KV_SAMPLER_SCRIPT}: ${r.error}`);
    return r;
  }

  close(): void {
    this.child.stdin!.end();
    if (!this.exited) this.child.kill();
  }
}
