// The learning-rate schedule of nanoGPT's train.py: linear warmup, cosine decay to minLr by
// decayIters, then flat. Written for a 1-based optimizer step t (nanoGPT's iteration is t - 1).
import { TrainingSetupInvalid } from "./errors.ts";

export interface LrSchedule {
  lr: number; // peak, reached at the end of warmup
  minLr: number;
  warmupIters: number;
  decayIters: number;
}

export function learningRate(step: number, s: LrSchedule): number {
  const it = step - 1;
  if (it < s.warmupIters) return (s.lr * (it + 1)) / (s.warmupIters + 1);
  if (it > s.decayIters) return s.minLr;
  const span = Math.max(1, s.decayIters - s.warmupIters);
  const ratio = (it - s.warmupIters) / span; // 0 -> 1
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.lr - s.minLr);
}

export function checkSchedule(s: LrSchedule, where = "lr schedule"): void {
  if (!(s.lr > 0)) throw new TrainingSetupInvalid(`${where}: lr must be > 0, got ${s.lr}`);
  if (!(s.minLr >= 0 && s.minLr <= s.lr))
    throw new TrainingSetupInvalid(`${where}: minLr must be in [0, lr = ${s.lr}], got ${s.minLr}`);
  if (!(Number.isInteger(s.warmupIters) && s.warmupIters >= 0))
    throw new TrainingSetupInvalid(`${where}: warmupIters must be an integer >= 0, got ${s.warmupIters}`);
  if (!(Number.isInteger(s.decayIters) && s.decayIters >= s.warmupIters)) {
    throw new TrainingSetupInvalid(
      `${where}: decayIters (${s.decayIters}) must be an integer >= warmupIters (${s.warmupIters})`,
    );
  }
}
