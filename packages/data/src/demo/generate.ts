import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { rng } from "@baton/rng";
import { hashKey } from "../random.ts";
import { domainDocuments, generalDocuments } from "./corpora.ts";
import {
  INSTRUCTION_TASKS,
  instructionRows,
  preferenceRows,
  rankingRows,
  splitNouns,
  TASK_DESCRIPTION,
  taskPrompt,
} from "./tasks.ts";
import { GENERAL } from "./words.ts";

/**
 * Baton's demo data, generated (never downloaded) and deterministic for a seed. Sized so each stage's
 * effect shows on a tiny character-level GPT within a minute or two of CPU:
 *   general  -> pretrain: simple English from a small grammar
 *   domain   -> cpt: a vocabulary of its own (high loss before CPT, low after), general replay limits forgetting
 *   task     -> finetune: plural of unseen made-up nouns, exact match
 *   instruct -> instruct: four tasks, 25 training templates each; the test set uses only templates with
 *               lead-ins never seen in training
 *   prefs, ranking -> reward / DPO: the right answer over a near miss (and an off-topic reply)
 * Every character of every file is in general.train.jsonl, so a char tokenizer built on it covers all.
 */
export interface DemoFile {
  path: string;
  format: "jsonl-text" | "prompt-completion" | "alpaca" | "preference" | "ranking";
  records: number;
  bytes: number;
  sha256: string;
  purpose: string;
}

export interface DemoDataManifest {
  generator: string;
  seed: number;
  files: Record<string, DemoFile>;
  task: string;
  instructionTasks: Array<{ name: string; train: string[]; heldOut: string[] }>;
  alphabet: string;
}

export interface DemoOptions {
  seed: number;
  /** Scale of the corpora (1 = ~400 KB general, ~150 KB domain); tests use a smaller one. */
  scale?: number;
}

export const DEMO_GENERATOR = "baton-demo-data/1";

export async function generateDemoData(dir: string, options: DemoOptions): Promise<DemoDataManifest> {
  const { seed } = options;
  const scale = options.scale ?? 1;
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`demo data: seed must be a non-negative integer, got ${seed}`);
  // One independent stream per file, so changing one file's size never changes another's content.
  const stream = (name: string) => rng(hashKey(seed, ...Array.from(name, (c) => c.charCodeAt(0))));
  const nouns = splitNouns(stream("nouns"), 1500, 200);
  const instructNouns = [...GENERAL.nouns, ...nouns.train];

  const text = (docs: string[]) => docs.map((t) => ({ text: t }));
  const contents: Record<string, { format: DemoFile["format"]; rows: object[]; purpose: string }> = {
    "general.train.jsonl": {
      format: "jsonl-text",
      rows: text(generalDocuments(stream("general.train"), 400_000 * scale)),
      purpose: "pretrain corpus; CPT replay",
    },
    "general.val.jsonl": {
      format: "jsonl-text",
      rows: text(generalDocuments(stream("general.val"), 40_000 * scale)),
      purpose: "general val loss (forgetting)",
    },
    "domain.train.jsonl": {
      format: "jsonl-text",
      rows: text(domainDocuments(stream("domain.train"), 150_000 * scale)),
      purpose: "CPT domain corpus",
    },
    "domain.val.jsonl": {
      format: "jsonl-text",
      rows: text(domainDocuments(stream("domain.val"), 20_000 * scale)),
      purpose: "domain val loss",
    },
    "task.train.jsonl": { format: "prompt-completion", rows: nouns.train.map(taskPrompt), purpose: "finetune" },
    "task.test.jsonl": {
      format: "prompt-completion",
      rows: nouns.test.map(taskPrompt),
      purpose: "finetune exact match (unseen nouns)",
    },
    "instruct.train.jsonl": {
      format: "alpaca",
      rows: instructionRows(stream("instruct.train"), 8000, instructNouns, "train").map(
        ({ task: _task, ...row }) => row,
      ),
      purpose: "instruct (training templates)",
    },
    "instruct.test.jsonl": {
      format: "alpaca",
      rows: instructionRows(stream("instruct.test"), 300, instructNouns, "heldOut"),
      purpose: "instruct accuracy on held-out templates; each row names its task",
    },
    // For the preference stages (reward, DPO): the right answer preferred over a near miss.
    "prefs.train.jsonl": {
      format: "preference",
      rows: preferenceRows(stream("prefs.train"), 1500, instructNouns),
      purpose: "reward model / DPO pairs",
    },
    "prefs.test.jsonl": {
      format: "preference",
      rows: preferenceRows(stream("prefs.test"), 200, instructNouns),
      purpose: "held-out pairwise accuracy",
    },
    "ranking.train.jsonl": {
      format: "ranking",
      rows: rankingRows(stream("ranking.train"), 600, instructNouns),
      purpose: "reward model rankings (all C(3,2) pairs)",
    },
    // The demo's reward and rlhf steps read feedback.*: `baton demo` replaces these scripted rankings
    // with rankings of the instruct checkpoint's own answers before the reward step trains.
    "feedback.train.jsonl": {
      format: "ranking",
      rows: rankingRows(stream("feedback.train"), 240, instructNouns),
      purpose: "rankings for the reward step (replaced by rankings of the model's own answers in `baton demo`)",
    },
    "feedback.test.jsonl": {
      format: "ranking",
      rows: rankingRows(stream("feedback.test"), 80, instructNouns),
      purpose: "held-out rankings for the reward step",
    },
  };

  await mkdir(dir, { recursive: true });
  const files: Record<string, DemoFile> = {};
  for (const [name, c] of Object.entries(contents)) {
    const body = `${c.rows.map((row) => JSON.stringify(row)).join("\n")}\n`;
    await writeFile(join(dir, name), body);
    files[name] = {
      path: name,
      format: c.format,
      records: c.rows.length,
      bytes: Buffer.byteLength(body),
      sha256: createHash("sha256").update(body).digest("hex"),
      purpose: c.purpose,
    };
  }

  // The guard the design relies on: one char vocabulary (from general.train) covers every file.
  const alphabet = new Set<string>();
  for (const row of contents["general.train.jsonl"]!.rows)
    for (const ch of (row as { text: string }).text) alphabet.add(ch);
  for (const [name, c] of Object.entries(contents)) {
    for (const row of c.rows) {
      for (const [key, value] of Object.entries(row)) {
        if (key === "task" || key === "ranking") continue; // labels, never tokenised
        for (const ch of Array.isArray(value) ? value.join("") : String(value)) {
          if (!alphabet.has(ch))
            throw new Error(
              `demo data: ${name} uses ${JSON.stringify(ch)}, which general.train.jsonl lacks; add it to the general grammar`,
            );
        }
      }
    }
  }

  const manifest: DemoDataManifest = {
    generator: DEMO_GENERATOR,
    seed,
    files,
    task: TASK_DESCRIPTION,
    instructionTasks: INSTRUCTION_TASKS.map((t) => ({ name: t.name, train: t.train, heldOut: t.heldOut })),
    alphabet: [...alphabet].sort().join(""),
  };
  await writeFile(join(dir, "demo-data.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
