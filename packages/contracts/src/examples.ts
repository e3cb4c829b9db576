import type { CheckpointManifest, EventDataByType, Recipe } from "./types.gen.ts";

// Valid examples of every contract: the contract tests check them, and other tests start from them.
const sha = (c: string): string => c.repeat(64);

export const exampleRecipe: Recipe = {
  name: "tiny",
  seed: 7,
  steps: [
    { name: "pretrain", stage: "pretrain", config: { steps: 10 }, data: ["file:///data/text.jsonl"] },
    { name: "sft", stage: "instruct", config: {}, data: ["s3://datasets/chat.jsonl", "https://example.org/x.jsonl"] },
  ],
};

export const exampleData: { [K in keyof EventDataByType]: EventDataByType[K] } = {
  "dev.baton.checkpoint.ready": {
    runId: "run-1",
    recipe: "tiny",
    seed: 7,
    cursor: 1,
    pipeline: exampleRecipe.steps,
    checkpoint: { uri: "s3://ckpt/checkpoints/run-1/0-pretrain/a1/", manifestSha256: sha("a") },
  },
  "dev.baton.stage.started": {
    runId: "run-1",
    cursor: 0,
    step: "pretrain",
    stage: "pretrain",
    implementation: "baton-gpt",
    version: "0.1.0",
    worker: "host:1",
    attempt: 1,
    resumeFromStep: null,
  },
  "dev.baton.stage.progress": {
    runId: "run-1",
    cursor: 0,
    step: "pretrain",
    stage: "pretrain",
    trainStep: 5,
    totalSteps: 10,
    metrics: { loss: 3.2 },
  },
  "dev.baton.stage.failed": {
    runId: "run-1",
    cursor: 0,
    step: "pretrain",
    stage: "pretrain",
    code: "CHECKPOINT_CORRUPT",
    disposition: "fatal",
    message: "model.safetensors digest differs",
    attempt: 2,
    eventId: "run-1:0:checkpoint.ready",
  },
  "dev.baton.run.completed": {
    runId: "run-1",
    recipe: "tiny",
    pipeline: exampleRecipe.steps,
    checkpoint: { uri: "file:///tmp/runs/checkpoints/run-1/1-sft/b2/", manifestSha256: sha("b") },
  },
  "dev.baton.dataset.updated": {
    dataset: "chat",
    uri: "s3://datasets/chat.jsonl",
    sha256: sha("c"),
    size: 1024,
    records: 10,
  },
  "dev.baton.feedback.ready": { uri: "s3://feedback/export-1.jsonl", rankings: 50 },
};

export const exampleManifest: CheckpointManifest = {
  formatVersion: 1,
  runId: "run-1",
  cursor: 0,
  step: "pretrain",
  stage: "pretrain",
  implementation: "baton-gpt",
  version: "0.1.0",
  parent: null,
  config: { steps: 10 },
  datasets: [{ uri: "file:///data/text.jsonl", sha256: sha("d") }],
  files: [
    { path: "model.safetensors", sha256: sha("e"), size: 4096 },
    { path: "config.json", sha256: sha("f"), size: 120 },
  ],
  metrics: { loss: 2.5 },
  traceId: null,
  startedAt: "2026-11-26T09:00:00.000Z",
  createdAt: "2026-11-26T09:05:00.000Z",
};
