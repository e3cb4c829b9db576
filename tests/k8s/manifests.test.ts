// The Kubernetes manifests must agree with the code: a ScaledJob that watches another stream or
// consumer than the stage service pulls from would never scale up, and nothing else would say so.
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { STREAM, durableName } from "@baton/stage-kit";
import { IMPLEMENTATIONS } from "@baton/stage-registry";

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
});
