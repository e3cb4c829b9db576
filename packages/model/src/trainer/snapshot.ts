// Resume snapshots: everything a killed run needs to continue as if it had never stopped. The data
// order and the dropout masks are pure functions of (seed, step), so weights, optimizer state, the
// step and the curves so far are the whole state. Stored as two files, so a stage hands them to
// ctx.snapshot.save(step, encodeSnapshot(s)) and reads them back with readSnapshotDir(latest.dir).
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from "../checkpoint/safetensors.ts";

export interface CurvePoint {
  step: number; // 1-based optimizer step
  loss: number; // mean over the step's counted tokens
  lr: number;
  gradNorm: number; // before clipping
}

export interface EvalPoint {
  step: number; // optimizer steps done when evaluated (0 = at init)
  valLoss: number; // NaN (null in JSON) when only a caller's metrics are evaluated
  trainLoss: number;
  /** the caller's own metrics (trainLanguageModel's `evaluate`) */
  metrics?: Record<string, number>;
  /** each validation batch's summed loss and counted tokens, when `eval.keepBatches` asks for them */
  valBatches?: { sum: number; count: number }[];
}

export interface TrainerSnapshot {
  /** optimizer steps done */
  step: number;
  params: Map<string, Float32Array>;
  optimizer: Map<string, Float32Array>;
  seed: number;
  tokensSeen: number;
  curve: CurvePoint[];
  evals: EvalPoint[];
  /** the settings that shape the trajectory; a resume with other settings is refused */
  plan: Record<string, unknown>;
}

export const SNAPSHOT_FILES = { tensors: "resume.safetensors", state: "trainer.json" } as const;
const PARAM = "param.";

export function encodeSnapshot(s: TrainerSnapshot): Record<string, Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [k, v] of s.params) tensors.set(PARAM + k, { dtype: "F32", shape: [v.length], data: v });
  for (const [k, v] of s.optimizer) tensors.set(k, { dtype: "F32", shape: [v.length], data: v });
  const state = {
    format: "baton.trainer-snapshot/1",
    step: s.step,
    seed: s.seed,
    tokensSeen: s.tokensSeen,
    plan: s.plan,
    curve: s.curve,
    evals: s.evals,
  };
  return {
    [SNAPSHOT_FILES.tensors]: encodeSafetensors(tensors, { step: String(s.step) }),
    [SNAPSHOT_FILES.state]: new TextEncoder().encode(JSON.stringify(state)),
  };
}

export function decodeSnapshot(files: Record<string, Uint8Array>, where = "snapshot"): TrainerSnapshot {
  const t = files[SNAPSHOT_FILES.tensors];
  const j = files[SNAPSHOT_FILES.state];
  if (!t || !j)
    throw new Error(
      `${where}: a trainer snapshot needs ${SNAPSHOT_FILES.tensors} and ${SNAPSHOT_FILES.state}; found ${Object.keys(files).join(", ") || "nothing"}`,
    );
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(new TextDecoder().decode(j)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}/${SNAPSHOT_FILES.state}: not valid JSON (${(e as Error).message})`);
  }
  if (state.format !== "baton.trainer-snapshot/1")
    throw new Error(
      `${where}/${SNAPSHOT_FILES.state}: format ${JSON.stringify(state.format)} is not baton.trainer-snapshot/1`,
    );
  const { tensors } = decodeSafetensors(t, `${where}/${SNAPSHOT_FILES.tensors}`);
  const params = new Map<string, Float32Array>();
  const optimizer = new Map<string, Float32Array>();
  for (const [k, v] of tensors) {
    if (v.dtype !== "F32") throw new Error(`${where}/${SNAPSHOT_FILES.tensors}: ${k} is ${v.dtype}, expected F32`);
    if (k.startsWith(PARAM)) params.set(k.slice(PARAM.length), v.data as Float32Array);
    else optimizer.set(k, v.data as Float32Array);
  }
  return {
    step: state.step as number,
    seed: state.seed as number,
    tokensSeen: state.tokensSeen as number,
    plan: state.plan as Record<string, unknown>,
    curve: state.curve as CurvePoint[],
    evals: state.evals as EvalPoint[],
    params,
    optimizer,
  };
}

export async function readSnapshotDir(dir: string): Promise<TrainerSnapshot> {
  const files: Record<string, Uint8Array> = {};
  for (const name of Object.values(SNAPSHOT_FILES)) files[name] = new Uint8Array(await readFile(join(dir, name)));
  return decodeSnapshot(files, dir);
}

/** Names of plan keys whose values differ, as "key: saved -> now" lines. */
export function planDifferences(saved: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(saved), ...Object.keys(now)]);
  return [...keys]
    .filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k]))
    .map((k) => `${k}: ${JSON.stringify(saved[k])} -> ${JSON.stringify(now[k])}`);
}

export interface SnapshotStore {
  save(s: TrainerSnapshot): Promise<void>;
  load(): Promise<TrainerSnapshot | null>;
}

/**
 * Snapshots in a local folder: <dir>/<step>/ written to a temporary name then renamed, so a kill
 * mid-write leaves the previous snapshot intact; the newest `keep` are kept.
 */
export function folderSnapshots(dir: string, keep = 2): SnapshotStore {
  const steps = async (): Promise<number[]> => {
    const names = await readdir(dir).catch(() => [] as string[]);
    return names
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  };
  return {
    async save(s) {
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.tmp-${s.step}-${process.pid}`);
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp);
      for (const [name, bytes] of Object.entries(encodeSnapshot(s))) await writeFile(join(tmp, name), bytes);
      const final = join(dir, String(s.step));
      await rm(final, { recursive: true, force: true });
      await rename(tmp, final);
      const all = await steps();
      for (const old of all.slice(0, Math.max(0, all.length - keep)))
        await rm(join(dir, String(old)), { recursive: true, force: true });
    },
    async load() {
      const last = (await steps()).at(-1);
      return last === undefined ? null : readSnapshotDir(join(dir, String(last)));
    },
  };
}

/**
 * The SnapshotStore over a stage's snapshot API (the runner's `ctx.snapshot`, typed structurally so
 * the model does not depend on the relay): `snapshots: { every, store: stageSnapshots(ctx.snapshot) }`.
 */
export function stageSnapshots(api: {
  save(trainStep: number, files: Record<string, string | Uint8Array>): Promise<void>;
  latest(): Promise<{ trainStep: number; dir: string } | null>;
}): SnapshotStore {
  return {
    save: (s) => api.save(s.step, encodeSnapshot(s)),
    async load() {
      const latest = await api.latest();
      return latest ? readSnapshotDir(latest.dir) : null;
    },
  };
}
