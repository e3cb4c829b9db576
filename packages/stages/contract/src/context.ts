// A StageContext as the relay builds it, on local folders: what the contract suite hands a stage's
// train(). Snapshots go to <root>/snapshots/<trainStep>/ and the newest complete one is "latest",
// mirroring runs/<runId>/<cursor>/_resume/ in the store.
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BatonError, type CheckpointManifest, type CheckpointRef, type RecipeStep } from "@baton/contracts";
import type { InputCheckpoint, Progress, StageContext } from "@baton/runner";

export interface ContextOptions {
  step: RecipeStep;
  /** Folder of the input checkpoint (null: random init). */
  inputDir?: string | null;
  seed?: number;
  /** Shared between attempts to test resume. */
  snapshotRoot?: string;
  signal?: AbortSignal;
  attempt?: number;
  onProgress?: (p: Progress) => void;
  /** Earlier steps of the pretend run, by name: their checkpoint folders (an RLHF stage's policy). */
  earlier?: Record<string, string>;
  /** The input checkpoint's parent (a reward model's manifest names the policy it started from). */
  inputParentDir?: string;
}

export interface LocalContext {
  ctx: StageContext;
  progress: Progress[];
  snapshots: number[];
}

const refOf = (dir: string): CheckpointRef => ({ uri: `${pathToFileURL(dir).href}/`, manifestSha256: "0".repeat(64) });

function fakeManifest(step: RecipeStep, parentDir?: string): CheckpointManifest {
  const now = new Date().toISOString();
  return {
    formatVersion: 1,
    runId: "contract",
    cursor: 0,
    step: "input",
    stage: step.stage,
    implementation: "fixture",
    version: "0",
    parent: parentDir ? refOf(parentDir) : null,
    config: {},
    datasets: [],
    files: [],
    metrics: {},
    traceId: null,
    startedAt: now,
    createdAt: now,
  };
}

export async function localContext(o: ContextOptions): Promise<LocalContext> {
  const root = await mkdtemp(join(tmpdir(), "baton-contract-"));
  const outputDir = join(root, "out");
  const workdir = join(root, "work");
  await mkdir(outputDir);
  await mkdir(workdir);
  const snapRoot = o.snapshotRoot ?? join(root, "snapshots");
  await mkdir(snapRoot, { recursive: true });
  const progress: Progress[] = [];
  const snapshots: number[] = [];
  const input: InputCheckpoint | null = o.inputDir
    ? { ref: refOf(o.inputDir), manifest: fakeManifest(o.step, o.inputParentDir), dir: o.inputDir }
    : null;
  const earlier = o.earlier ?? {};
  const ctx: StageContext = {
    runId: "contract",
    cursor: 0,
    step: o.step,
    pipeline: [o.step],
    recipe: "contract",
    seed: o.seed ?? 1,
    input,
    async stepCheckpoint(name) {
      if (!(name in earlier))
        throw BatonError.fatal(
          "CONFIG_INVALID",
          `step ${JSON.stringify(name)} is not an earlier step of run contract (earlier steps: ${Object.keys(earlier).join(", ") || "none"})`,
        );
      return refOf(earlier[name] as string);
    },
    async openCheckpoint(ref) {
      const dir = fileURLToPath(ref.uri);
      return { ref, manifest: fakeManifest(o.step), dir };
    },
    outputDir,
    workdir,
    attempt: o.attempt ?? 1,
    progress(p) {
      progress.push(p);
      o.onProgress?.(p);
    },
    snapshot: {
      async save(trainStep, files) {
        const tmp = join(snapRoot, `.tmp-${trainStep}`);
        await mkdir(tmp, { recursive: true });
        for (const [name, v] of Object.entries(files)) {
          if (typeof v === "string") await copyFile(v, join(tmp, name));
          else await writeFile(join(tmp, name), v);
        }
        await rm(join(snapRoot, String(trainStep)), { recursive: true, force: true });
        await rename(tmp, join(snapRoot, String(trainStep)));
        snapshots.push(trainStep);
      },
      async latest() {
        const steps = (await readdir(snapRoot)).filter((n) => /^\d+$/.test(n)).map(Number);
        if (steps.length === 0) return null;
        const trainStep = Math.max(...steps);
        const dir = join(snapRoot, String(trainStep));
        return { trainStep, dir, files: await readdir(dir) };
      },
    },
    signal: o.signal ?? new AbortController().signal,
    log: { info() {}, warn() {}, error() {} },
  };
  return { ctx, progress, snapshots };
}
