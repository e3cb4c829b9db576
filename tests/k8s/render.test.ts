// `baton k8s render` for a recipe that repeats a stage and swaps an implementation: the overlay builds
// and validates, has one ScaledJob per step on that step's consumer and implementation, a Job that
// creates the consumers, and NATS users for exactly these steps, which a real nats-server enforces.

import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { connectNats, NatsBus } from "@baton/bus";
import { natsAuthConf, natsPasswordVariable } from "@baton/cli";
import { durableName, STREAM, subjects } from "@baton/contracts";
import { type LocalNats, startNats } from "@baton/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, RECIPES } from "../e2e/cluster.ts";
import { k8sWithCredentials, kustomize, type Manifest, manifestProblems } from "./kustomize.ts";

const RECIPE = join(RECIPES, "two-finetunes.yaml");
const RULES = join(RECIPES, "two-finetunes-rules.yaml");
const STEPS = [
  { step: "pretrain", implementation: "pretrain" },
  { step: "finetune", implementation: "finetune" },
  { step: "finetune-again", implementation: "finetune-last-layers" },
];
const USERS = ["cli", ...STEPS.map((s) => s.step), "minio"];

describe("baton k8s render", () => {
  let copy: string;
  let out: string;
  let built: Manifest[];
  const find = (kind: string, name: string) =>
    built.find((m) => m.kind === kind && (m.metadata.name === name || m.metadata.name.startsWith(`${name}-`)));

  beforeAll(async () => {
    copy = await k8sWithCredentials();
    out = join(dirname(copy), "two-finetunes");
    const r = await cli(
      [
        "k8s",
        "render",
        RECIPE,
        "--impl",
        "finetune-again=finetune-last-layers",
        "--overlay",
        "gpu",
        "--trigger-rules",
        RULES,
        "--resources",
        "finetune-again=cpu=3,memory=12Gi,gpu=2",
        "--out",
        out,
        "--k8s",
        copy,
      ],
      {},
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`deploy with: kubectl apply -k ${out}`);
    built = await kustomize(out);
  }, 120_000);
  afterAll(async () => {
    if (copy) await rm(dirname(copy), { recursive: true, force: true });
  });

  it("builds, and every resource validates against its schema", async () => {
    expect(await manifestProblems(built)).toEqual([]);
  });

  it("has one ScaledJob per step, on its consumer, serving its implementation as its own NATS user, on a GPU", () => {
    const jobs = built.filter((m) => m.kind === "ScaledJob");
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual([
      "baton-finetune",
      "baton-finetune-again",
      "baton-pretrain",
    ]);
    for (const s of STEPS) {
      const spec = find("ScaledJob", `baton-${s.step}`)!.spec as any;
      expect(spec.triggers, s.step).toEqual([
        expect.objectContaining({
          type: "nats-jetstream",
          metadata: expect.objectContaining({ stream: STREAM, consumer: durableName(s.step), lagThreshold: "1" }),
        }),
      ]);
      const container = spec.jobTargetRef.template.spec.containers[0];
      expect(container.args, s.step).toEqual([s.implementation, "--step", s.step, "--once"]);
      expect(container.env, s.step).toEqual(
        expect.arrayContaining([
          { name: "NATS_USER", value: s.step },
          { name: "NATS_PASSWORD", valueFrom: { secretKeyRef: { name: "baton-nats", key: s.step } } },
        ]),
      );
      expect(container.image).toBe("ghcr.io/baton-dev/baton-gpu:latest");
      // the overlay's GPU resources, except where the step chose its own
      expect(container.resources, s.step).toEqual(
        s.step === "finetune-again"
          ? { requests: { cpu: "3", memory: "12Gi" }, limits: { memory: "12Gi", "nvidia.com/gpu": "2" } }
          : { requests: { cpu: "4", memory: "16Gi" }, limits: { memory: "32Gi", "nvidia.com/gpu": 1 } },
      );
      expect(spec.jobTargetRef.template.spec.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
    }
  });

  it("has a Job that creates the consumers from the recipe, and NATS users for exactly these steps", async () => {
    const jobs = built.filter((m) => m.kind === "Job" && m.metadata.labels?.["baton.dev/service"] === "consumers");
    expect(jobs.map((j) => j.metadata.name)).toEqual(["baton-consumers-e2e-two-finetunes"]);
    const pod = (jobs[0]!.spec as any).template.spec;
    expect(pod.containers[0].args).toEqual(["consumers", "/etc/baton/recipe/two-finetunes.yaml"]);
    const recipeMap = find("ConfigMap", pod.volumes[0].configMap.name)!;
    expect(recipeMap.metadata.name).toMatch(/^baton-recipe-/);
    expect((recipeMap.data as Record<string, string>)["two-finetunes.yaml"]).toBe(await readFile(RECIPE, "utf8"));

    const auth = (find("ConfigMap", "nats-config")!.data as Record<string, string>)["nats-auth.conf"];
    expect(auth).toBe(
      natsAuthConf(
        "e2e-two-finetunes",
        STEPS.map((s) => s.step),
      ),
    );
    const env = (find("StatefulSet", "nats")!.spec as any).template.spec.containers[0].env;
    expect(env).toEqual(
      USERS.map((u) => ({
        name: natsPasswordVariable(u),
        valueFrom: { secretKeyRef: { name: "baton-nats", key: u } },
      })),
    );
    const secret = find("Secret", "baton-nats")!.data as Record<string, string>;
    expect(Object.keys(secret).sort()).toEqual([...USERS].sort());
    for (const value of Object.values(secret))
      expect(Buffer.from(value, "base64").toString()).toMatch(/^p[0-9a-f]{48}$/);
    expect(((await stat(join(out, "nats-users.env"))).mode & 0o777).toString(8)).toBe("600");
    expect(await readFile(join(out, ".gitignore"), "utf8")).toBe("nats-users.env\n");
  });

  it("deploys the trigger on the given rules, whose recipe is this one", async () => {
    const trigger = find("Deployment", "baton-trigger")!;
    const volume = (trigger.spec as any).template.spec.volumes.find((v: { name: string }) => v.name === "rules")
      .configMap.name as string;
    const rules = find("ConfigMap", volume)!.data as Record<string, string>;
    expect(Object.keys(rules).sort()).toEqual(["rules.yaml", "two-finetunes.yaml"]);
    expect(rules["two-finetunes.yaml"]).toBe(await readFile(RECIPE, "utf8"));
    expect(rules["rules.yaml"]).toContain("recipe: two-finetunes.yaml");
    // the demo's rules would start runs of steps this overlay has no ScaledJob for
    const demoRules = join(copy, "base", "trigger", "rules.yaml");
    const refused = await cli(
      ["k8s", "render", RECIPE, "--trigger-rules", demoRules, "--out", join(out, "..", "refused"), "--k8s", copy],
      {},
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `${demoRules}: /rules/0 ("domain-corpus") runs steps cpt, instruct, reward, rlhf, which this overlay does not deploy`,
    );
  });

  it("rendering again keeps the passwords; a step served by another stage's implementation is refused", {
    timeout: 60_000,
  }, async () => {
    const before = await readFile(join(out, "nats-users.env"), "utf8");
    const again = await cli(
      ["k8s", "render", RECIPE, "--impl", "finetune-again=finetune-last-layers", "--out", out, "--k8s", copy],
      {},
    );
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(join(out, "nats-users.env"), "utf8")).toBe(before);
    // without --trigger-rules there is no trigger (the base's would start demo runs)
    expect((await kustomize(out)).filter((m) => m.metadata.name === "baton-trigger")).toEqual([]);
    const badResources = await cli(
      [
        "k8s",
        "render",
        RECIPE,
        "--resources",
        "finetune=cpu=2,memory=lots",
        "--out",
        join(out, "..", "wrong"),
        "--k8s",
        copy,
      ],
      {},
    );
    expect(badResources.code).toBe(2);
    expect(badResources.stderr).toContain(
      "--resources finetune=cpu=2,memory=lots: memory=lots is not a Kubernetes quantity (e.g. 500m, 2, 16Gi)",
    );
    const wrong = await cli(
      ["k8s", "render", RECIPE, "--impl", "finetune-again=rlhf-dpo", "--out", join(out, "..", "wrong"), "--k8s", copy],
      {},
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      '--impl finetune-again=rlhf-dpo: rlhf-dpo serves stage "rlhf", but step "finetune-again" (/steps/2) is a "finetune" step',
    );
  });

  describe("over a real nats-server with the rendered users", () => {
    let nats: LocalNats;
    let passwords: Record<string, string>;
    const buses: NatsBus[] = [];
    const as = async (user: string) => {
      const bus = await NatsBus.fromConnection(
        await connectNats(nats.url, user, { user, pass: passwords[user]! }),
        {},
        true,
      );
      buses.push(bus);
      return bus;
    };

    beforeAll(async () => {
      passwords = Object.fromEntries(
        (await readFile(join(out, "nats-users.env"), "utf8"))
          .split("\n")
          .filter((l) => l && !l.startsWith("#"))
          .map((l) => l.split("=") as [string, string]),
      );
      const conf = join(out, "..", "nats-auth.conf");
      await writeFile(conf, (find("ConfigMap", "nats-config")!.data as Record<string, string>)["nats-auth.conf"]!);
      nats = await startNats({
        authorization: {
          file: conf,
          env: Object.fromEntries(USERS.map((u) => [natsPasswordVariable(u), passwords[u]!])),
        },
      });
    }, 60_000);
    afterAll(async () => {
      for (const b of buses) await b.close().catch(() => undefined);
      await nats?.dispose();
    });

    it("the Job's command creates every step's consumer; each step hands on only to the next", {
      timeout: 60_000,
    }, async () => {
      const job = await cli(["consumers", RECIPE], {
        NATS_URL: nats.url,
        NATS_USER: "cli",
        NATS_PASSWORD: passwords.cli!,
      });
      expect(job.code, job.stderr).toBe(0);
      const starter = await as("cli");
      const jsm = await jetstreamManager(starter.nc);
      for (const s of STEPS)
        expect((await jsm.consumers.info(STREAM, durableName(s.step))).num_pending, s.step).toBe(0);

      const payload = new TextEncoder().encode("{}");
      const finetune = await as("finetune");
      const again = await as("finetune-again");
      await expect(
        finetune.publishRaw(subjects.checkpointReady("finetune-again"), payload, { msgId: "hand-on" }),
      ).resolves.toMatchObject({ seq: expect.any(Number) });
      await expect(finetune.publishRaw(subjects.runCompleted(), payload, { msgId: "skip" })).rejects.toThrow(
        /permission/i,
      );
      await expect(again.publishRaw(subjects.checkpointReady("pretrain"), payload, { msgId: "back" })).rejects.toThrow(
        /permission/i,
      );
      const taken = await again.pull("finetune-again", { expiresMs: 2_000 });
      expect(taken?.subject).toBe(subjects.checkpointReady("finetune-again"));
      await taken!.ack();
      await expect(again.publishRaw(subjects.runCompleted(), payload, { msgId: "done" })).resolves.toMatchObject({
        seq: expect.any(Number),
      });
    });
  });
});
