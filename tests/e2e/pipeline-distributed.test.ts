// The demo recipe (packages/cli/recipes/demo.yaml, what `pnpm demo` runs), distributed: six stage
// services as separate OS processes (`baton stage serve`) over a real nats-server and a real S3
// server, with the datasets in S3 (the reward step's rankings are the demo data's scripted ones). The
// run reaches run.completed; the lineage of the last checkpoint has six hops, each with its datasets'
// sha256, the rlhf checkpoint names both parents (the reward model, and the instruct policy it
// optimised); and every stage shows its effect.
//
// Bounds (checked with seeds 1 and 2 of the demo data and recipe; the numbers are in the comments):
// they sit well inside what every seed achieved, and far from what an untrained or a broken stage
// gives.

import { join } from "node:path";
import { generateDemoData } from "@baton/data";
import { awaitRun, type LineageHop, lineage, startRun } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Cluster,
  DEMO_RECIPE,
  recipeWith,
  type ServiceProcess,
  serve,
  sha256File,
  startCluster,
  uploadDatasets,
} from "./cluster.ts";

const STEPS = [
  { step: "pretrain", implementation: "pretrain" },
  { step: "cpt", implementation: "cpt" },
  { step: "finetune", implementation: "finetune" },
  { step: "instruct", implementation: "instruct" },
  { step: "reward", implementation: "reward" },
  { step: "rlhf", implementation: "rlhf-ppo" },
];

describe("the demo pipeline as six services over NATS + S3", () => {
  let cluster: Cluster;
  let services: ServiceProcess[] = [];
  let hops: LineageHop[] = [];
  let dataDir: string;

  beforeAll(async () => {
    cluster = await startCluster();
    dataDir = join(cluster.workDir, "demo-data");
    await generateDemoData(dataDir, { seed: 1 });
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await cluster?.close();
  });

  it("reaches run.completed; the last checkpoint's lineage has six hops with dataset digests and both RLHF parents", {
    timeout: 900_000,
  }, async () => {
    const uris = await uploadDatasets(cluster.env, dataDir, "demo");
    const recipe = await recipeWith(DEMO_RECIPE, uris);
    for (const s of STEPS) await cluster.env.bus.ensureConsumer(s.step);
    services = STEPS.map((s) => serve(cluster, s.implementation, s.step));
    const runId = "e2e-distributed";
    const done = awaitRun(cluster.env.bus, runId, { timeoutMs: 880_000 });
    await startRun(cluster.env.bus, { runId, recipe, source: "baton://tests/e2e" });
    const completed = await done.catch((err: Error) => {
      throw new Error(
        `${err.message}\n--- service output ---\n${services.map((s) => s.output.join("")).join("\n---\n")}`,
      );
    });
    expect(completed.checkpoint.uri).toMatch(/^s3:\/\//);

    hops = (await lineage(cluster.env.store, completed.checkpoint)).reverse();
    expect(hops.map((h) => h.manifest.stage)).toEqual(["pretrain", "cpt", "finetune", "instruct", "reward", "rlhf"]);
    expect(hops[0]?.manifest.parent).toBeNull();
    for (const [i, hop] of hops.entries()) {
      const step = recipe.steps[i]!;
      expect(hop.manifest.step).toBe(step.name);
      expect(hop.manifest.datasets.map((d) => d.uri).sort()).toEqual([...step.data].sort());
      for (const d of hop.manifest.datasets) {
        const file = [...uris].find(([, u]) => u === d.uri)?.[0] as string;
        expect(d.sha256, `${hop.manifest.step}: ${file}`).toBe(await sha256File(join(dataDir, file)));
      }
      if (i > 0) expect(hop.manifest.parent?.uri).toBe(hops[i - 1]?.uri);
    }
    // PPO's second parent: the policy it started from is the instruct checkpoint, the reward model's parent
    expect(hops[5]?.manifest.inputs).toEqual([{ role: "policy", checkpoint: hops[4]?.manifest.parent }]);
    expect(hops[5]?.manifest.implementation).toBe("baton-gpt-rlhf-ppo");
  });

  it("shows each stage's effect", () => {
    const m = (stage: string) => hops.find((h) => h.manifest.stage === stage)?.manifest.metrics ?? {};
    const pre = m("pretrain");
    const cpt = m("cpt");
    const ft = m("finetune");
    const ins = m("instruct");
    // The bounds are the demo's promises (issue 16), asserted on the full demo recipe; over seeds 1-3
    // every stage clears them with room (docs/benchmarks.md has each seed's figures).
    // pretraining: from ~ln(V) at random init (4.63) to under 0.75 (seeds 1-3: 0.686-0.70)
    expect(pre.val_loss).toBeLessThan(0.6 * (pre.random_init_val_loss as number));
    // CPT: the domain loss falls by over half (seeds 1-3: -82% or more) while general text loses at
    // most 5% (seeds 1-3: within 1%, with 12 of every 16 rows replayed)
    expect(cpt.domain_val_loss).toBeLessThan(0.5 * (cpt.domain_val_loss_before as number));
    expect(cpt.general_val_loss).toBeLessThanOrEqual(1.05 * (cpt.general_val_loss_before as number));
    // finetune: exact match on nouns it never saw, from 0 to at least 0.9 (seeds 1-3: 0.99-1.00)
    expect(ft.exact_match_before).toBeLessThanOrEqual(0.05);
    expect(ft.exact_match).toBeGreaterThanOrEqual(0.9);
    expect(ft.rouge_l).toBeGreaterThan(ft.rouge_l_before as number);
    // instruct: instructions phrased with templates it never saw, 300 of them (one answer is 0.3%):
    // exact answers from 0 to at least 0.7 (seeds 1-3: 0.80 and above), the held-out loss falls by
    // more than half, and the model stops by itself
    expect(ins.heldout_template_accuracy).toBeGreaterThanOrEqual(0.7);
    expect(ins.heldout_loss).toBeLessThan(0.5 * (ins.heldout_loss_before as number));
    expect(ins.eos_rate).toBeGreaterThanOrEqual(0.95);
    // reward: held-out pairwise accuracy from a random head's chance level to clearly above it
    const rm = m("reward");
    expect(rm.pairwise_accuracy).toBeGreaterThan((rm.pairwise_accuracy_before as number) + 0.1);
    expect(rm.pairwise_accuracy).toBeGreaterThanOrEqual(0.7);
    // rlhf: the reward model scores the policy's held-out answers higher than the instruct model's,
    // and the KL leash keeps the policy's own answers: within 0.1 of the instruct model's accuracy
    const rl = m("rlhf");
    expect(rl.heldout_reward).toBeGreaterThan(rl.heldout_reward_before as number);
    expect(rl.heldout_accuracy).toBeGreaterThanOrEqual((rl.heldout_accuracy_before as number) - 0.1);
    expect(rl.eos_rate).toBeGreaterThanOrEqual(0.9);
  });
});
