// The command table: one line per command. A command module exports
// `run(argv: string[]): Promise<number | void>`.
export interface CommandModule {
  run(argv: string[]): Promise<number | undefined>;
}

export interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Record<string, Command> = {
  version: { summary: "print the Baton version", load: () => import("./commands/version.ts") },
  run: {
    summary: "run a recipe (here, or on the cluster when NATS_URL is set)",
    load: () => import("./commands/run.ts"),
  },
  stage: {
    summary: "serve one stage implementation (baton stage serve <name>)",
    load: () => import("./commands/stage.ts"),
  },
  consumers: {
    summary: "create every step's durable consumer on the cluster (what baton run does first)",
    load: () => import("./commands/consumers.ts"),
  },
  k8s: {
    summary: "render a recipe as a kustomize overlay, a KEDA ScaledJob per step (k8s render ...)",
    load: () => import("./commands/k8s.ts"),
  },
  status: { summary: "where a run is, from the cluster's events", load: () => import("./commands/status.ts") },
  gc: {
    summary: "list (--dry-run) or delete checkpoints and snapshots no ledger entry references",
    load: () => import("./commands/gc.ts"),
  },
  trigger: {
    summary: "start retraining runs on new data and rankings (trigger serve --rules <file>)",
    load: () => import("./commands/trigger.ts"),
  },
  lineage: {
    summary: "a checkpoint's ancestry with data and config at every hop",
    load: () => import("./commands/lineage.ts"),
  },
  report: {
    summary: "write the report of the run that ended at a checkpoint",
    load: () => import("./commands/report.ts"),
  },
  data: {
    summary: "push a dataset to the store and announce it (data push <local> <uri>)",
    load: () => import("./commands/data.ts"),
  },
  "demo-data": { summary: "generate the deterministic demo datasets", load: () => import("./commands/demo-data.ts") },
  demo: {
    summary: "demo data + pretrain -> cpt -> finetune -> instruct -> reward -> rlhf, with a report",
    load: () => import("./commands/demo.ts"),
  },
  train: {
    summary: "train a model from a preset and text (train pretrain ...)",
    load: () => import("./commands/train.ts"),
  },
  feedback: {
    summary: "rank a checkpoint's own answers with the demo's rule rater (feedback simulate ...)",
    load: () => import("./commands/feedback.ts"),
  },
  web: {
    summary: "the web app: ranking pages and the console for runs (web [--port], web add-user)",
    load: () => import("./commands/web.ts"),
  },
  sample: { summary: "continue a prompt with a trained model folder", load: () => import("./commands/sample.ts") },
  export: {
    summary: "a trained model as an ONNX serving folder (export onnx <checkpoint> --out <dir>)",
    load: () => import("./commands/export.ts"),
  },
  bench: {
    summary:
      "benchmark pretraining (bench pretrain ...), pretraining against PyTorch (bench compare <preset>) and rollout sampling against PyTorch (bench rollout ...)",
    load: () => import("./commands/bench.ts"),
  },
};
