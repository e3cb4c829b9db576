// Generated from schemas/*.schema.json by `pnpm --filter @baton/contracts gen:types`. Do not edit:
// change the schema and regenerate (a test fails when this file is stale).

/** manifest.json of a checkpoint folder, written last: a checkpoint without it does not exist. */
export interface CheckpointManifest {
  formatVersion: 1;
  runId: RunId;
  /** Index of the step in the pipeline that produced this checkpoint. */
  cursor: number;
  step: StepName;
  stage: StageName;
  /** Which implementation of the stage trained it (e.g. baton-gpt). */
  implementation: string;
  /** Version of that implementation. */
  version: string;
  /** The checkpoint this one was trained from; null for random init. */
  parent: CheckpointRef | null;
  /** Checkpoints read besides the parent, each with its role (an RLHF policy's starting point beside the reward model it is optimised against). `baton lineage` shows them at their hop. */
  inputs?: InputRef[];
  /** The recipe step's config as run. */
  config: Record<string, unknown>;
  datasets: DatasetRef[];
  files: ManifestFile[];
  metrics: Metrics;
  /** OpenTelemetry trace id of the work that produced it, when traced. */
  traceId: string | null;
  startedAt: string;
  createdAt: string;
}

export interface InputRef {
  /** What the stage used it as (policy, reference, reward). */
  role: string;
  checkpoint: CheckpointRef;
}

/** One file of the checkpoint folder (path relative to the folder, '/'-separated). */
export interface ManifestFile {
  path: string;
  sha256: Sha256;
  /** Bytes. */
  size: number;
}

/** CloudEvents 1.0 structured JSON envelope as Baton uses it. data is checked separately against the schema of its type. */
export interface CloudEventEnvelope {
  specversion: "1.0";
  /** Deterministic: <runId>:<cursor>:<type>[:<suffix>], also the Nats-Msg-Id. */
  id: string;
  /** URI-reference of the producer, e.g. baton://stage/pretrain/worker-1. */
  source: string;
  type: "dev.baton.checkpoint.ready" | "dev.baton.stage.started" | "dev.baton.stage.progress" | "dev.baton.stage.failed" | "dev.baton.run.completed" | "dev.baton.dataset.updated" | "dev.baton.feedback.ready";
  subject?: string;
  time: string;
  datacontenttype?: "application/json";
  /** CloudEvents distributed-tracing extension: the producer's W3C traceparent (set on publish from the trace context headers). */
  traceparent?: string;
  /** CloudEvents distributed-tracing extension: the producer's W3C tracestate, when it has one. */
  tracestate?: string;
  data: Record<string, unknown>;
  [key: string]: unknown;
}

/** Run identifier. Used in NATS subjects, KV keys and S3 keys, so: letters, digits, '_' and '-' only. */
export type RunId = string;

/** Name of a recipe step. One NATS subject token and one durable consumer per name: lowercase letters, digits and '-'. */
export type StepName = string;

/** Stage kind that runs a step (pretrain, cpt, finetune, instruct, reward, rlhf, or a custom one); an implementation serves it (rlhf: rlhf-ppo or rlhf-dpo). */
export type StageName = string;

/** Lowercase hex sha256 digest. */
export type Sha256 = string;

/** Where a dataset lives: s3://bucket/key, file:///abs/path or http(s)://host/path. */
export type DatasetUri = string;

/** A checkpoint folder in the store (s3://bucket/prefix/ or file:///abs/prefix/), always ending in '/'. */
export type CheckpointUri = string;

/** Pointer to a committed checkpoint: its folder and the digest of its manifest.json, so the manifest itself is verified. files, when present, repeats the manifest's file list so a reader can fetch the manifest and the files at once (it must equal the manifest's list). */
export interface CheckpointRef {
  uri: CheckpointUri;
  manifestSha256: Sha256;
  files?: ManifestFile[];
}

/** A dataset a step read, with the digest of the bytes it read. */
export interface DatasetRef {
  uri: DatasetUri;
  sha256: Sha256;
}

/** Named numeric metrics (loss, val_loss, tokens_per_s, ...). */
export type Metrics = Record<string, number>;

/** _dataset.json of a dataset folder, written by `baton data push` after its files: each file's path in the folder, sha256 and size. */
export interface DatasetManifest {
  formatVersion: 1;
  dataset: StepName;
  /** The dataset folder, ending in '/'. */
  uri: DatasetUri;
  files: ManifestFile[];
  updatedAt: string;
}

/** An instruction-tuning example. Rendered as a user turn (instruction, then input after a blank line when present) and an assistant turn (output) with the chat template. */
export interface AlpacaInstructionRecord {
  instruction: string;
  /** Optional context; may be empty. */
  input?: string;
  output: string;
  [key: string]: unknown;
}

/** A conversation. Loss is computed on assistant turns only; a training record needs at least one assistant turn. */
export interface ChatRecord {
  messages: ({
    role: "system" | "user" | "assistant";
    content: string;
    [key: string]: unknown;
  })[];
  [key: string]: unknown;
}

/** A prompt with a preferred (chosen) and a dispreferred (rejected) response: reward-model and DPO data. */
export interface PreferencePairRecord {
  prompt: string;
  chosen: string;
  rejected: string;
  [key: string]: unknown;
}

/** A supervised fine-tuning example: loss is computed on the completion tokens (and the EOS after them) only. The prompt and completion are concatenated as they are: put any separator (space, newline) in the text itself. */
export interface PromptCompletionRecord {
  prompt: string;
  completion: string;
  [key: string]: unknown;
}

/** A prompt with K responses (2 <= K <= 9) ranked by a person or a rater: ranking holds indices into responses, best first (a permutation of 0..K-1). A reward model trains on every pair of differently ranked responses, C(K,2) of them without ties. That ranking is a permutation of the right length, and ties name positions inside it, is checked in code (JSON Schema can not say it). */
export interface RankingRecord {
  prompt: string;
  responses: string[];
  ranking: number[];
  /** Positions p (1..K-1) of ranking whose response is as good as the one at p-1 ("tie with the item above"); tied responses give no training pair. */
  ties?: number[];
  /** Who ranked: a person's id or a rule rater's name. */
  rater?: string;
  /** URI of the checkpoint whose outputs were ranked. */
  checkpoint?: string;
  [key: string]: unknown;
}

/** One document of a pretraining / CPT corpus, one JSON object a line. Documents are separated by EOS in the token stream. Other keys are allowed and ignored. */
export interface TextRecord {
  /** The document; must contain a non-space character. */
  text: string;
  [key: string]: unknown;
}

/** Run step pipeline[cursor], starting from checkpoint (null: random init). The routing slip travels whole in every event. */
export interface CheckpointReadyData {
  runId: RunId;
  /** Name of the recipe the run follows. */
  recipe: string;
  seed?: number;
  /** Index in pipeline of the step to run now. */
  cursor: number;
  pipeline: RecipeStep[];
  /** Input checkpoint for pipeline[cursor]; null means start from random init. */
  checkpoint: CheckpointRef | null;
}

/** New data landed for a named dataset (baton data push or a bucket notification). uri, sha256 and size describe what was pushed: one file, or a folder (then sha256 is its manifest's digest and size the total). */
export interface DatasetUpdatedData {
  dataset: StepName;
  uri: DatasetUri;
  sha256?: Sha256;
  /** Bytes. */
  size?: number;
  records?: number;
  /** Every object pushed, with the sha256 of its bytes (what a recipe step's data is replaced with). */
  files?: DatasetRef[];
  /** The dataset folder's manifest (_dataset.json, see schemas/dataset-manifest.schema.json). */
  manifest?: DatasetUri;
}

/** Enough new human rankings were collected to retrain from the latest checkpoint. */
export interface FeedbackReadyData {
  /** Where the exported preference records are. */
  uri: DatasetUri;
  sha256?: Sha256;
  /** Number of new rankings in the export. */
  rankings: number;
  /** The checkpoint whose outputs were ranked. */
  checkpoint?: CheckpointRef;
}

/** The last step of the pipeline committed its checkpoint. */
export interface RunCompletedData {
  runId: RunId;
  recipe: string;
  pipeline: RecipeStep[];
  checkpoint: CheckpointRef;
}

/** An attempt at a step failed. disposition retry: it will be redelivered; fatal: it went to the dead-letter subject. */
export interface StageFailedData {
  /** Run id, or 'unknown' when the event could not be read. */
  runId: string;
  cursor: number | null;
  step: StepName;
  stage: string;
  /** BatonError code, e.g. CHECKPOINT_CORRUPT. */
  code: string;
  disposition: "retry" | "fatal";
  /** What was wrong, where, and what to do. */
  message: string;
  attempt: number;
  /** CloudEvent id of the failed event, or null when unreadable. */
  eventId: string | null;
}

/** Training progress of a step (published at most every progress interval). */
export interface StageProgressData {
  runId: RunId;
  cursor: number;
  step: StepName;
  stage: StageName;
  /** Optimizer steps done so far. */
  trainStep: number;
  totalSteps?: number;
  metrics: Metrics;
}

/** A worker took step pipeline[cursor] of a run and is about to train. */
export interface StageStartedData {
  runId: RunId;
  cursor: number;
  step: StepName;
  stage: StageName;
  implementation: string;
  version: string;
  /** Worker id (host:pid or pod name). */
  worker: string;
  /** Delivery count of the event, 1 on the first try. */
  attempt: number;
  /** Train step of the resume snapshot it starts from, or null for a fresh start. */
  resumeFromStep: number | null;
}

/** A recipe: the ordered steps of a run. Its steps travel inside every checkpoint.ready event as the routing slip (data.pipeline). */
export interface Recipe {
  name: string;
  description?: string;
  /** Base seed; each step derives its own from (seed, step name). */
  seed?: number;
  steps: RecipeStep[];
}

/** One step of the routing slip: which stage runs it, with which config, on which data. */
export interface RecipeStep {
  name: StepName;
  stage: StageName;
  /** Stage-specific settings; the stage's strict loader checks them. */
  config: Record<string, unknown>;
  data: DatasetUri[];
}

/** Rules of `baton trigger serve`: which new data (dataset.updated, a bucket notification) or new rankings (feedback.ready) start which recipe, from which step and checkpoint. */
export interface TriggerRules {
  /** Debounce for every rule (default 30s): a rule's run starts once this long has passed without a new update for it. */
  window?: Duration;
  /** A run starts at the latest this long after the first update of its window, however many keep coming (default 10 windows). */
  maxWait?: Duration;
  /** Accept the object store's own S3 event notification records (MinIO's format) on this subject, as well as Baton's dataset.updated. */
  bucketNotifications?: {
    /** A subject under baton. (the stream), e.g. baton.bucket.notifications. */
    subject: string;
  };
  rules: TriggerRule[];
}

/** A duration: 500ms, 30s, 5m, 1h. */
export type Duration = string;

/** One rule: an update it matches starts the recipe's steps from `from` to the end. */
export interface TriggerRule {
  /** Names the rule in run ids and logs. */
  name: string;
  on: TriggerOn;
  /** The recipe file, relative to the rules file. */
  recipe: string;
  /** The first step to run; the run goes on to the recipe's last step. */
  from: StepName;
  checkpoint: TriggerCheckpoint;
  /** Step name -> regular expression: in that step's data, the entries whose file name matches are replaced by the new files (dataset rules) or the rankings export (feedback rules). */
  data: Record<string, string>;
  window?: Duration;
  maxWait?: Duration;
}

/** What starts the rule (one of): new objects under a dataset prefix, or a rankings export (feedback.ready, optionally under a prefix). */
export interface TriggerOn {
  dataset?: {
    /** e.g. s3://baton/datasets/legal/ */
    prefix: string;
  };
  feedback?: {
    /** Only exports under this URI prefix. */
    prefix?: string;
  };
}

/** Where the first step starts: "event" = the checkpoint named in feedback.ready (whose outputs were ranked); {latest: <step>} = the newest checkpoint of that step of the pipeline (default: this rule's recipe). */
export type TriggerCheckpoint = "event" | {
  latest: StepName;
  /** Recipe name whose pointer to read (default: the rule's recipe). */
  pipeline?: string;
};

/** Data type of each CloudEvent type. */
export interface EventDataByType {
  "dev.baton.checkpoint.ready": CheckpointReadyData;
  "dev.baton.dataset.updated": DatasetUpdatedData;
  "dev.baton.feedback.ready": FeedbackReadyData;
  "dev.baton.run.completed": RunCompletedData;
  "dev.baton.stage.failed": StageFailedData;
  "dev.baton.stage.progress": StageProgressData;
  "dev.baton.stage.started": StageStartedData;
}
