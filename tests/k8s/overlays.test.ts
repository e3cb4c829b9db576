// Every overlay builds with `kubectl kustomize` and every resource it outputs validates against its
// schema; a manifest made invalid fails the check naming the resource and the field. The demo
// stages of k8s/base are what `baton k8s render` makes for the demo recipe, so the two cannot drift.

import { execFile } from "node:child_process";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { consumersJob, natsAuthConf, stageScaledJob } from "@baton/cli";
import { readRecipeFile, resolveSteps } from "@baton/stage-registry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { K8S, k8sWithCredentials, kustomize, type Manifest, manifestProblems } from "./kustomize.ts";

const DEMO = join(K8S, "..", "packages/cli/recipes/demo.yaml");
const podSpecOf = (m: Manifest): { containers: { image: string }[] } | undefined => {
  const spec = m.spec as Record<string, any> | undefined;
  return spec?.jobTargetRef?.template?.spec ?? spec?.template?.spec;
};

describe("k8s overlays", () => {
  let copy: string;
  beforeAll(async () => {
    copy = await k8sWithCredentials();
  });
  afterAll(async () => {
    if (copy) await rm(dirname(copy), { recursive: true, force: true });
  });

  it.each(["cpu-dev", "gpu"])(
    "%s builds, and every resource validates against its schema",
    { timeout: 60_000 },
    async (overlay) => {
      const out = await kustomize(join(copy, "overlays", overlay));
      expect(await manifestProblems(out)).toEqual([]);
      const kinds = out.map((m) => `${m.kind}/${m.metadata.name}`);
      expect(kinds).toEqual(
        expect.arrayContaining([
          "StatefulSet/nats",
          "StatefulSet/minio",
          "Deployment/otel-collector",
          "Service/otel-collector",
          "Job/baton-consumers-demo",
          "Secret/baton-s3",
          "Secret/baton-nats",
        ]),
      );
      expect(out.filter((m) => m.kind === "ScaledJob")).toHaveLength(6);

      // images pinned: every image but Baton's own names a version, never latest
      const images = out.flatMap((m) => podSpecOf(m)?.containers.map((c) => c.image) ?? []);
      for (const image of images.filter((i) => !i.includes("baton")))
        expect(image, image).toMatch(/:(?!latest$)[\w.-]+$/);
      expect(new Set(images.filter((i) => i.includes("baton")))).toEqual(
        new Set([overlay === "gpu" ? "ghcr.io/baton-dev/baton-gpu:latest" : "baton:dev"]),
      );

      // each StatefulSet is governed by a headless Service selecting its pods
      for (const set of out.filter((m) => m.kind === "StatefulSet")) {
        const spec = set.spec as { serviceName: string; selector: { matchLabels: Record<string, string> } };
        const svc = out.find((m) => m.kind === "Service" && m.metadata.name === spec.serviceName)?.spec as
          | { clusterIP?: string; selector: Record<string, string> }
          | undefined;
        expect(svc?.clusterIP, `${set.metadata.name}: serviceName ${spec.serviceName}`).toBe("None");
        expect(svc?.selector).toEqual(spec.selector.matchLabels);
      }

      // Prometheus finds every Baton service's /metrics; traces go to the collector deployed here
      for (const m of out.filter((m) => m.kind === "ScaledJob" || m.metadata.name === "baton-trigger")) {
        const template = ((m.spec as any).jobTargetRef?.template ?? (m.spec as any).template) as {
          metadata: { annotations?: Record<string, string> };
        };
        expect(template.metadata.annotations, m.metadata.name).toEqual({
          "prometheus.io/scrape": "true",
          "prometheus.io/port": "8080",
          "prometheus.io/path": "/metrics",
        });
      }
      // Baton's own pods run as the image's non-root user, without privilege escalation
      for (const m of out.filter((m) => podSpecOf(m)?.containers.some((c) => c.image.includes("baton")))) {
        const pod = podSpecOf(m) as {
          securityContext?: { runAsNonRoot?: boolean };
          containers: { securityContext?: { allowPrivilegeEscalation?: boolean } }[];
        };
        expect(pod.securityContext?.runAsNonRoot, `${m.kind}/${m.metadata.name}`).toBe(true);
        for (const c of pod.containers)
          expect(c.securityContext?.allowPrivilegeEscalation, `${m.kind}/${m.metadata.name}`).toBe(false);
      }
      const env = out.find((m) => m.kind === "ConfigMap" && m.metadata.name === "baton-env")!.data as Record<
        string,
        string
      >;
      const collector = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!);
      expect(collector.hostname).toBe("otel-collector.baton.svc.cluster.local");
      expect(
        (
          out.find((m) => m.kind === "Service" && m.metadata.name === "otel-collector")!.spec as {
            ports: { port: number }[];
          }
        ).ports.map((p) => p.port),
      ).toContain(Number(collector.port));

      if (overlay === "gpu") {
        for (const m of out.filter((m) => m.kind === "ScaledJob"))
          expect((podSpecOf(m) as any).containers[0].resources.limits["nvidia.com/gpu"], m.metadata.name).toBe(1);
      }
    },
  );

  it("a manifest made invalid fails the check, naming the resource and the field", { timeout: 60_000 }, async () => {
    const file = join(copy, "base", "stages", "finetune.yaml");
    const good = await readFile(file, "utf8");
    await writeFile(
      file,
      good
        .replace("pollingInterval: 10", "pollingInterval: often")
        .replace("containerPort: 8080", "containerPort: http"),
    );
    try {
      const problems = await manifestProblems(await kustomize(join(copy, "overlays", "cpu-dev")));
      expect(problems.sort()).toEqual([
        "ScaledJob/baton-finetune: /spec/jobTargetRef/template/spec/containers/0/ports/0/containerPort must be integer",
        "ScaledJob/baton-finetune: /spec/pollingInterval must be integer",
      ]);
    } finally {
      await writeFile(file, good);
    }
    const nats = (await kustomize(join(copy, "overlays", "cpu-dev"))).map((m) =>
      m.kind === "StatefulSet" && m.metadata.name === "nats"
        ? { ...m, spec: { ...(m.spec as object), replicas: "one" } }
        : m,
    );
    expect(await manifestProblems(nats)).toEqual(["StatefulSet/nats: /spec/replicas must be integer"]);
  });

  it("no credential is committed: the Secrets come from credentials/*.env, which git ignores", async () => {
    const credentials = await readdir(join(K8S, "base", "credentials"));
    expect(credentials.filter((f) => f.endsWith(".env.example")).sort()).toEqual([
      "nats.env.example",
      "s3.env.example",
    ]);
    const ignore = await readFile(join(K8S, "..", ".gitignore"), "utf8");
    expect(ignore).toContain("/k8s/base/credentials/*.env");
    for (const f of ["nats.env.example", "s3.env.example"]) {
      // every value left for the operator to fill, except the S3 key's user name
      const values = (await readFile(join(K8S, "base", "credentials", f), "utf8"))
        .split("\n")
        .filter((l) => l && !l.startsWith("#"));
      expect(
        values.filter((l) => !l.endsWith("=") && l !== "AWS_ACCESS_KEY_ID=baton"),
        f,
      ).toEqual([]);
    }
    const tracked = (await promisify(execFile)("git", ["ls-files", "k8s"], { cwd: join(K8S, "..") })).stdout.split(
      "\n",
    );
    expect(tracked.filter((f) => /credentials\/[^/]+\.env$/.test(f))).toEqual([]);
  });

  it("k8s/base's demo stages, consumers Job and infra/nats-auth.conf are what the renderer makes for the demo recipe", async () => {
    const steps = resolveSteps(await readRecipeFile(DEMO), DEMO);
    for (const s of steps) {
      const [job] = parseAllDocuments(await readFile(join(K8S, "base", "stages", `${s.step}.yaml`), "utf8")).map((d) =>
        d.toJS(),
      );
      expect(job, s.step).toEqual(stageScaledJob(s));
    }
    const [consumers] = parseAllDocuments(await readFile(join(K8S, "base", "consumers.yaml"), "utf8")).map((d) =>
      d.toJS(),
    );
    expect(consumers).toEqual(consumersJob("demo", "baton-trigger-rules", "demo.yaml"));
    expect(await readFile(join(K8S, "..", "infra", "nats-auth.conf"), "utf8")).toBe(
      natsAuthConf(
        "demo",
        steps.map((s) => s.step),
      ),
    );
  });
});
