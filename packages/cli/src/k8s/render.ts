// `baton k8s render`: a kustomize overlay that deploys one recipe. Every step gets its own ScaledJob
// (its subject's consumer, its implementation, its NATS user), a Job creates every step's consumer,
// and NATS's authorization is written for exactly these steps. The platform (NATS, MinIO, the OTel
// collector, the trigger) comes from k8s/base, whose demo stages are left out; an overlay's component
// (gpu, cpu-dev) applies to the recipe's stages as it does to the demo's.
//
//   <out>/kustomization.yaml         resources, components, the recipe's ConfigMap, the NATS patches
//   <out>/platform/kustomization.yaml k8s/base without its stage ScaledJobs and demo consumers Job
//   <out>/stages/<step>.yaml          one ScaledJob per step
//   <out>/consumers.yaml              the Job that creates every step's durable consumer
//   <out>/recipe/<file>               the recipe, for that Job
//   <out>/nats-*.patch.yaml           nats-auth.conf for these steps; the server's password variables
//   <out>/nats-users.env              one password per NATS user (made here once, never committed)
//   <out>/trigger/                    with --trigger-rules: the retraining trigger's rules and recipes
//                                     (without: no trigger, whose demo rules would start demo runs)
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BatonError } from "@baton/contracts";
import { type ResolvedStep, readRecipeFile, resolveSteps } from "@baton/stage-registry";
import { loadRules } from "@baton/trigger";
import { parseDocument, stringify } from "yaml";
import { natsAuthConf, natsPasswordVariable, natsUserProblems, natsUsers } from "./nats-auth.ts";
import type { PodResources } from "./resources.ts";
import { consumersJob, RECIPE_CONFIG_MAP, scaledJobName, stageScaledJob } from "./stage-job.ts";

/** The repository's k8s/ folder (base, components, overlays). */
export const K8S_DIR = fileURLToPath(new URL("../../../../k8s/", import.meta.url));

export const OVERLAYS = ["gpu", "cpu-dev"] as const;
export type Overlay = (typeof OVERLAYS)[number];

export interface RenderOptions {
  recipeFile: string;
  /** step name -> implementation (default: the stage's own). */
  choices?: Record<string, string>;
  /** The component applied to every stage (k8s/components/<overlay>); none = the base as it is. */
  overlay?: Overlay;
  out: string;
  /** Where k8s/base and k8s/components are (default: this repository's). */
  k8sDir?: string;
  /** step -> the resources its pod asks for (parseStepResources); others get the overlay's. */
  resources?: Record<string, PodResources>;
  /** The retraining trigger's rules (their recipes run only this recipe's steps); none = no trigger. */
  triggerRules?: string;
}

export interface RenderedOverlay {
  dir: string;
  steps: ResolvedStep[];
  /** NATS users that got a new password in nats-users.env this time. */
  newPasswords: string[];
}

const PASSWORDS = "nats-users.env";

export async function renderOverlay(o: RenderOptions): Promise<RenderedOverlay> {
  const recipe = await readRecipeFile(o.recipeFile);
  const steps = resolveSteps(recipe, o.recipeFile, o.choices);
  const names = steps.map((s) => s.step);
  const problems = [...natsUserProblems(names), ...nameClashes(names)];
  if (problems.length > 0)
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `recipe ${o.recipeFile} cannot be deployed as it is:\n  - ${problems.join("\n  - ")}`,
    );
  const k8s = resolve(o.k8sDir ?? K8S_DIR);
  for (const need of [
    "base/kustomization.yaml",
    "components/image/kustomization.yaml",
    ...(o.overlay ? [`components/${o.overlay}/kustomization.yaml`] : []),
  ]) {
    if (!existsSync(join(k8s, need)))
      throw BatonError.fatal(
        "CONFIG_INVALID",
        `${join(k8s, need)} does not exist; give --k8s the folder that holds Baton's base/ and components/`,
      );
  }
  const trigger = o.triggerRules ? await triggerFiles(o.triggerRules, names) : null;
  const dir = resolve(o.out);
  const recipeName = basename(o.recipeFile);
  await rm(join(dir, "stages"), { recursive: true, force: true }); // a step removed from the recipe loses its ScaledJob
  await rm(join(dir, "trigger"), { recursive: true, force: true });
  await Promise.all(
    ["platform", "stages", "recipe", ...(trigger ? ["trigger"] : [])].map((d) =>
      mkdir(join(dir, d), { recursive: true }),
    ),
  );
  const rel = (p: string) => relative(dir, join(k8s, p)) || ".";
  const flags = [
    ...Object.entries(o.choices ?? {}).map(([s, i]) => `--impl ${s}=${i}`),
    ...(o.overlay ? [`--overlay ${o.overlay}`] : []),
    ...Object.keys(o.resources ?? {}).map((s) => `--resources ${s}=...`),
    ...(o.triggerRules ? [`--trigger-rules ${basename(o.triggerRules)}`] : []),
  ];
  const made = `Made by \`baton k8s render ${[recipeName, ...flags].join(" ")}\``;

  const files: Record<string, string> = {
    "kustomization.yaml": yaml(
      {
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        namespace: "baton",
        resources: ["platform", ...steps.map((s) => `stages/${s.step}.yaml`), "consumers.yaml"],
        // the image first (`baton` -> the released image), then the overlay's own mapping and patches
        components: [rel("components/image"), ...(o.overlay ? [rel(`components/${o.overlay}`)] : [])],
        configMapGenerator: [
          { name: RECIPE_CONFIG_MAP, files: [`recipe/${recipeName}`] },
          ...(trigger
            ? [
                {
                  name: "baton-trigger-rules",
                  behavior: "replace",
                  files: Object.keys(trigger).map((f) => `trigger/${f}`),
                },
              ]
            : []),
        ],
        secretGenerator: [
          { name: "baton-nats", behavior: "replace", envs: [PASSWORDS], options: { disableNameSuffixHash: true } },
        ],
        patches: [
          { path: "nats-config.patch.yaml" },
          { path: "nats-env.patch.yaml", target: { kind: "StatefulSet", name: "nats" } },
        ],
      },
      [
        `Recipe "${recipe.name}" on Kubernetes: ${names.join(" -> ")}, each step a KEDA ScaledJob that`,
        "starts a pod only while an event waits on its consumer. Apply with `kubectl apply -k <this folder>`.",
        "Needs KEDA 2.19 in namespace keda and the base's credentials/s3.env (see k8s/base/kustomization.yaml).",
        `${made}; render again rather than editing.`,
      ],
    ),
    "platform/kustomization.yaml": yaml(
      {
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: [relative(join(dir, "platform"), join(k8s, "base"))],
        patches: [
          {
            target: { kind: "ScaledJob", labelSelector: "baton.dev/stage" },
            patch: deletion("keda.sh/v1alpha1", "ScaledJob"),
          },
          { target: { kind: "Job", labelSelector: "baton.dev/service=consumers" }, patch: deletion("batch/v1", "Job") },
          ...(trigger
            ? []
            : [{ target: { kind: "Deployment", name: "baton-trigger" }, patch: deletion("apps/v1", "Deployment") }]),
        ],
      },
      [
        `The platform of k8s/base (NATS, MinIO, the OTel collector${trigger ? ", the trigger" : ""}) without the demo recipe's stages${trigger ? "" : " and its trigger"}.`,
      ],
    ),
    "consumers.yaml": yaml(consumersJob(recipe.name, RECIPE_CONFIG_MAP, recipeName), [
      `Creates the durable consumer of every step of recipe "${recipe.name}" before any run: KEDA reads a`,
      "missing consumer's lag as the stream's whole backlog and would start a pod for every step.",
    ]),
    [`recipe/${recipeName}`]: await readFile(o.recipeFile, "utf8"),
    "nats-config.patch.yaml": yaml(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "nats-config" },
        data: { "nats-auth.conf": natsAuthConf(recipe.name, names) },
      },
      ["NATS's users for exactly these steps: each may take its own step's events and hand on to the next only."],
    ),
    "nats-env.patch.yaml": yaml(
      [
        {
          op: "replace",
          path: "/spec/template/spec/containers/0/env",
          value: natsUsers(names).map((u) => ({
            name: natsPasswordVariable(u),
            valueFrom: { secretKeyRef: { name: "baton-nats", key: u } },
          })),
        },
      ],
      ["The password of every NATS user of nats-auth.conf, from the Secret baton-nats (nats-users.env)."],
    ),
    [`${PASSWORDS}.example`]: [
      `# One password per NATS user; ${PASSWORDS} (never committed) holds the real ones.`,
      ...natsUsers(names).map((u) => `${u}=`),
      "",
    ].join("\n"),
    ".gitignore": `${PASSWORDS}\n`,
  };
  for (const s of steps) {
    files[`stages/${s.step}.yaml`] = yaml(stageScaledJob(s, o.resources?.[s.step]), [
      `Step "${s.step}" (stage ${s.stage}) served by ${s.implementation}: a pod only while an event waits on its consumer.`,
    ]);
  }
  for (const [file, text] of Object.entries(trigger ?? {})) files[`trigger/${file}`] = text;
  for (const [path, text] of Object.entries(files)) await writeFile(join(dir, path), text);
  const newPasswords = await ensurePasswords(join(dir, PASSWORDS), natsUsers(names));
  return { dir, steps, newPasswords };
}

/**
 * The trigger's rules file and the recipes it names, flat (one ConfigMap), each rule pointing at its
 * recipe's file name. A rule whose recipe runs a step this overlay does not deploy is refused: its
 * runs would wait forever on a consumer no ScaledJob serves.
 */
async function triggerFiles(rulesFile: string, steps: string[]): Promise<Record<string, string>> {
  const rules = await loadRules(rulesFile); // schema, recipes, steps and data patterns, with JSON paths
  const problems: string[] = [];
  const recipes = new Map<string, string>(); // file name -> path
  for (const [i, rule] of rules.rules.entries()) {
    const missing = rule.recipe.steps
      .slice(rule.recipe.steps.findIndex((s) => s.name === rule.from))
      .map((s) => s.name)
      .filter((s) => !steps.includes(s));
    if (missing.length > 0)
      problems.push(
        `${rulesFile}: /rules/${i} ("${rule.name}") runs step${missing.length === 1 ? "" : "s"} ${missing.join(", ")}, which this overlay does not deploy (its steps: ${steps.join(", ")})`,
      );
    const name = basename(rule.recipeFile);
    const other = recipes.get(name);
    if (other !== undefined && other !== rule.recipeFile)
      problems.push(
        `${rulesFile}: /rules/${i}/recipe: two recipes are named ${name} (${other}, ${rule.recipeFile}); rename one`,
      );
    recipes.set(name, rule.recipeFile);
  }
  if (problems.length > 0)
    throw BatonError.fatal(
      "CONFIG_INVALID",
      `--trigger-rules ${rulesFile} cannot go with this recipe:\n  - ${problems.join("\n  - ")}`,
    );
  const doc = parseDocument(await readFile(rulesFile, "utf8"));
  rules.rules.forEach((rule, i) => doc.setIn(["rules", i, "recipe"], basename(rule.recipeFile)));
  const out: Record<string, string> = { "rules.yaml": doc.toString({ lineWidth: 0 }) };
  for (const [name, path] of recipes) out[name] = await readFile(path, "utf8");
  return out;
}

/** Keeps the passwords already in the file and adds one for each user without: p + 48 hex digits. */
async function ensurePasswords(file: string, users: string[]): Promise<string[]> {
  const existing = existsSync(file) ? await readFile(file, "utf8") : "";
  const have = new Map<string, string>();
  for (const line of existing.split("\n")) {
    const m = /^\s*([^#=\s][^=]*?)\s*=\s*(\S.*?)\s*$/.exec(line); // user=password; comments and empty values skipped
    if (m) have.set(m[1]!, m[2]!);
  }
  const added = users.filter((u) => !have.get(u));
  for (const u of added) have.set(u, `p${randomBytes(24).toString("hex")}`);
  const lines = [
    "# NATS passwords, one per user (made by `baton k8s render`; keep it out of version control)",
    ...users.map((u) => `${u}=${have.get(u)}`),
    "",
  ];
  await writeFile(file, lines.join("\n"), { mode: 0o600 });
  await chmod(file, 0o600);
  return added;
}

/** Step names that would give two steps one Kubernetes object name. */
function nameClashes(steps: string[]): string[] {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const s of steps) {
    const name = scaledJobName(s);
    const other = seen.get(name);
    if (other !== undefined && other !== s)
      out.push(`steps "${other}" and "${s}" would both be the ScaledJob ${name}; rename one`);
    seen.set(name, s);
  }
  return out;
}

/** A patch that removes every object its target selects. */
function deletion(apiVersion: string, kind: string): string {
  return yaml({ $patch: "delete", apiVersion, kind, metadata: { name: "any" } }, []);
}

function yaml(value: unknown, comment: string[]): string {
  const body = stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
  return `${comment.map((c) => `# ${c}\n`).join("")}${body}`;
}
