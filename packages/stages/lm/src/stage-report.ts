// What each stage writes beside its weights (stage-report.json) for the run report: the loss curve,
// validation points, samples before and after, the effect metrics and what validation did to the data.
import type { CurvePoint } from "./train-loop.ts";

export interface SampleBeforeAfter {
  prompt: string;
  before: string;
  after: string;
  /** Expected answer, when the data has one. */
  reference?: string;
}

export interface DatasetCounts {
  uri: string;
  sha256: string;
  records: number;
  skipped: number;
  /** The first messages, `file:line: reason`. */
  errors: string[];
}

export interface StageReport {
  stage: string;
  step: string;
  implementation: string;
  /** Training loss per step. */
  curve: CurvePoint[];
  evals: { step: number; metrics: Record<string, number> }[];
  /** metric -> value on the input checkpoint and on the output (null: random init). */
  effect: Record<string, { before: number | null; after: number }>;
  samples: SampleBeforeAfter[];
  datasets: DatasetCounts[];
  seconds: number;
}
