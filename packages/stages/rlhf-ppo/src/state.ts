// PPO's resume snapshot, taken at an iteration boundary: both trained models with their AdamW
// moments, the KL controller's beta, the update count (AdamW's bias correction) and the log so far.
// Rollouts, minibatch orders and sampler draws are functions of (seed, iteration), so nothing else is
// needed for a resumed run to end with the same weights, bit for bit.
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from "@baton/model";

export interface IterationLog {
  iteration: number;
  metrics: Record<string, number>;
}

export interface PpoState {
  iteration: number; // iterations done
  updates: number; // optimizer steps of each model so far
  beta: number;
  log: IterationLog[];
  /** the config the run was started with: a resume under another is refused */
  plan: string;
  policy: { params: Map<string, Float32Array>; optimizer: Map<string, Float32Array> };
  value: { params: Map<string, Float32Array>; optimizer: Map<string, Float32Array> };
}

const FILES = { tensors: "ppo.safetensors", state: "ppo.json" } as const;
const FORMAT = "baton.ppo-snapshot/1";

export function encodeState(s: PpoState): Record<string, Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [role, m] of [
    ["policy", s.policy],
    ["value", s.value],
  ] as const) {
    for (const [k, v] of m.params) tensors.set(`${role}.param.${k}`, { dtype: "F32", shape: [v.length], data: v });
    for (const [k, v] of m.optimizer) tensors.set(`${role}.opt.${k}`, { dtype: "F32", shape: [v.length], data: v });
  }
  const state = { format: FORMAT, iteration: s.iteration, updates: s.updates, beta: s.beta, log: s.log, plan: s.plan };
  return {
    [FILES.tensors]: encodeSafetensors(tensors),
    [FILES.state]: new TextEncoder().encode(JSON.stringify(state)),
  };
}

export function decodeState(files: Record<string, Uint8Array>, where: string): PpoState {
  const t = files[FILES.tensors];
  const j = files[FILES.state];
  if (!t || !j) throw new Error(`${where}: a PPO snapshot needs ${FILES.tensors} and ${FILES.state}`);
  const state = JSON.parse(new TextDecoder().decode(j)) as Omit<PpoState, "policy" | "value"> & { format: string };
  if (state.format !== FORMAT)
    throw new Error(`${where}/${FILES.state}: format ${JSON.stringify(state.format)} is not ${FORMAT}`);
  const empty = () => ({ params: new Map<string, Float32Array>(), optimizer: new Map<string, Float32Array>() });
  const models = { policy: empty(), value: empty() };
  for (const [name, v] of decodeSafetensors(t, `${where}/${FILES.tensors}`).tensors) {
    const [role, kind, ...rest] = name.split(".");
    const m = models[role as "policy" | "value"];
    if (!m || (kind !== "param" && kind !== "opt"))
      throw new Error(`${where}/${FILES.tensors}: unexpected tensor ${name}`);
    (kind === "param" ? m.params : m.optimizer).set(rest.join("."), v.data as Float32Array);
  }
  return {
    iteration: state.iteration,
    updates: state.updates,
    beta: state.beta,
    log: state.log,
    plan: state.plan,
    ...models,
  };
}
