// The Kubernetes manifests must agree with the code: a ScaledJob that watches another stream or
// consumer than the stage service pulls from would never scale up, and nothing else would say so.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { durableName, STREAM, subjects } from "@baton/contracts";
import { IMPLEMENTATIONS, readRecipeFile } from "@baton/stage-registry";
import { loadRules } from "@baton/trigger";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

const K8S = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "k8s");

interface ScaledJob {
  kind: string;
  metadata: { name: string };
  spec: {
    jobTargetRef: { template: { spec: { terminationGracePeriodSeconds: number; containers: { args: string[] }[] } } };
    triggers: { type: string; metadata: Record<string, string> }[];
  };
}

function resources(dir: string): string[] {
  const k = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as { resources?: string[] };
  return k.resources ?? [];
}

describe("k8s manifests", () => {
  it("lists only files and folders that exist, in the base and every overlay", () => {
    for (const dir of [join(K8S, "base"), ...readdirSync(join(K8S, "overlays")).map((o) => join(K8S, "overlays", o))]) {
      for (const r of resources(dir)) expect(existsSync(join(dir, r)), `${dir}/kustomization.yaml: ${r}`).toBe(true);
    }
  });

  it("scales each stage on the stream and durable consumer its service pulls from", () => {
    const stageFiles = resources(join(K8S, "base")).filter((r) => r.startsWith("stages/"));
    expect(stageFiles.length).toBeGreaterThanOrEqual(4);
    for (const file of stageFiles) {
      const docs = parseAllDocuments(readFileSync(join(K8S, "base", file), "utf8")).map((d) => d.toJS() as ScaledJob);
      const job = docs.find((d) => d.kind === "ScaledJob");
      expect(job, file).toBeDefined();
      const pod = job!.spec.jobTargetRef.template.spec;
      const args = pod.containers[0]!.args;
      const [implementation] = args;
      const step = args[args.indexOf("--step") + 1];
      expect(IMPLEMENTATIONS[implementation!], `${file}: implementation ${implementation}`).toBeDefined();
      expect(args, file).toContain("--once");
      const trigger = job!.spec.triggers.find((t) => t.type === "nats-jetstream");
      expect(trigger?.metadata, file).toMatchObject({ stream: STREAM, consumer: durableName(step!) });
      // long enough for SIGTERM to end in a resume snapshot and a nak
      expect(pod.terminationGracePeriodSeconds, file).toBeGreaterThanOrEqual(60);
    }
  });

  const docsOf = (file: string) =>
    parseAllDocuments(readFileSync(join(K8S, "base", file), "utf8")).map((d) => d.toJS() as Record<string, any>);
  const AUTH = readFileSync(join(K8S, "..", "infra", "nats-auth.conf"), "utf8");
  const natsUsers = [...AUTH.matchAll(/\{ user: ([a-z-]+), password: \$(BATON_NATS_[A-Z_]+_PASSWORD)/g)].map((m) => ({
    user: m[1]!,
    variable: m[2]!,
  }));

  it("NATS runs with infra/nats-auth.conf, every password from the Secret baton-nats", () => {
    expect(natsUsers.map((u) => u.user)).toEqual([
      "cli",
      "pretrain",
      "cpt",
      "finetune",
      "instruct",
      "reward",
      "rlhf",
      "minio",
    ]);
    const [config, set] = docsOf("nats.yaml");
    expect(config!.data["nats-auth.conf"]).toBe(AUTH);
    expect(config!.data["nats.conf"]).toContain('include "nats-auth.conf"');
    const env = set!.spec.template.spec.containers[0].env as {
      name: string;
      valueFrom: { secretKeyRef: { name: string; key: string } };
    }[];
    for (const u of natsUsers)
      expect(env.find((e) => e.name === u.variable)?.valueFrom.secretKeyRef, u.variable).toEqual({
        name: "baton-nats",
        key: u.user,
      });
  });

  it("each stage connects as its step's user, and no credential is committed", () => {
    for (const file of resources(join(K8S, "base")).filter((r) => r.startsWith("stages/"))) {
      const job = docsOf(file).find((d) => d.kind === "ScaledJob")!;
      const container = job.spec.jobTargetRef.template.spec.containers[0];
      const step = container.args[container.args.indexOf("--step") + 1];
      expect(container.env, file).toEqual(
        expect.arrayContaining([
          { name: "NATS_USER", value: step },
          { name: "NATS_PASSWORD", valueFrom: { secretKeyRef: { name: "baton-nats", key: step } } },
        ]),
      );
      expect(
        natsUsers.map((u) => u.user),
        `${file}: nats-auth.conf has no user ${step}`,
      ).toContain(step);
    }
    for (const file of resources(join(K8S, "base"))) {
      for (const d of docsOf(file)) expect(d.kind, `${file} commits a Secret`).not.toBe("Secret");
    }
    expect(docsOf("config.yaml")[0]!.data.BATON_HTTP_HOST).toBe("0.0.0.0");
  });

  it("NetworkPolicies: ingress denied by default; NATS, MinIO and the stages' HTTP faces reachable only by their clients", () => {
    const policies = Object.fromEntries(docsOf("network-policies.yaml").map((p) => [p.metadata.name, p.spec]));
    expect(policies["default-deny-ingress"]).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    expect(policies["nats-clients"].podSelector).toEqual({ matchLabels: { app: "nats" } });
    expect(policies["nats-clients"].ingress.map((r: { ports: { port: number }[] }) => r.ports[0]!.port)).toEqual([
      4222, 8222,
    ]);
    expect(policies["minio-clients"].podSelector).toEqual({ matchLabels: { app: "minio" } });
    expect(policies["minio-clients"].ingress[0].ports).toEqual([{ port: 9000 }]);
    expect(policies["stage-http-face"].ingress[0].ports).toEqual([{ port: 8080 }]);
    // the selectors match the pods they are meant for
    const stagePod = docsOf("stages/pretrain.yaml")[0]!.spec.jobTargetRef.template.metadata.labels;
    expect(stagePod["baton.dev/stage"]).toBe("pretrain");
    expect(docsOf("minio.yaml")[0]!.spec.template.metadata.labels.app).toBe("minio");
    expect(docsOf("nats.yaml")[1]!.spec.template.metadata.labels.app).toBe("nats");
  });

  it("runs the trigger as a Deployment on rules that load, over the demo recipe, with MinIO notifying its subject", async () => {
    const base = join(K8S, "base");
    expect(resources(base)).toContain("trigger/trigger.yaml");
    const k = parse(readFileSync(join(base, "kustomization.yaml"), "utf8")) as {
      configMapGenerator: { name: string; files: string[] }[];
    };
    const generated = k.configMapGenerator.find((g) => g.name === "baton-trigger-rules");
    expect(generated?.files).toEqual(["trigger/rules.yaml", "trigger/demo.yaml"]);

    const deployment = parse(readFileSync(join(base, "trigger/trigger.yaml"), "utf8")) as {
      kind: string;
      spec: {
        replicas: number;
        template: {
          spec: {
            containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
            volumes: { name: string; configMap: { name: string } }[];
          };
        };
      };
    };
    expect(deployment.kind).toBe("Deployment");
    expect(deployment.spec.replicas).toBe(1);
    const pod = deployment.spec.template.spec;
    const args = pod.containers[0]!.args;
    expect(args.slice(0, 2)).toEqual(["trigger", "serve"]);
    const rulesPath = args[args.indexOf("--rules") + 1]!;
    const mount = pod.containers[0]!.volumeMounts.find((m) => rulesPath.startsWith(`${m.mountPath}/`));
    expect(pod.volumes.find((v) => v.name === mount?.name)?.configMap.name).toBe("baton-trigger-rules");
    expect(rulesPath.slice(mount!.mountPath.length + 1)).toBe("rules.yaml");

    // the rules the pod reads load (recipe, steps, data patterns all checked), on the demo recipe's steps
    const rules = await loadRules(join(base, "trigger/rules.yaml"));
    const demo = await readRecipeFile(join(K8S, "..", "packages/cli/recipes/demo.yaml"));
    const strip = (r: typeof demo) => r.steps.map(({ name, stage, config }) => ({ name, stage, config }));
    for (const rule of rules.rules) expect(strip(rule.recipe)).toEqual(strip(demo));

    // MinIO publishes its records where the trigger reads them
    const minio = parseAllDocuments(readFileSync(join(base, "minio.yaml"), "utf8")).map(
      (d) =>
        d.toJS() as {
          kind: string;
          spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
        },
    );
    const env = minio.find((d) => d.kind === "StatefulSet")!.spec.template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === "MINIO_NOTIFY_NATS_SUBJECT_BATON")?.value).toBe(rules.bucketSubject);
    expect(rules.bucketSubject).toBe(subjects.bucketNotifications());
  });
});
