// The Kubernetes objects of one recipe step: a KEDA ScaledJob that starts a pod only while an event
// waits on the step's durable consumer (scale to zero), and the Job that creates every step's
// consumer before the first run (a missing consumer reads to KEDA as the whole stream's backlog).
// k8s/base/stages/*.yaml are these objects for the demo recipe (tests/k8s checks they agree).
import { durableName, STREAM } from "@baton/contracts";
import { STARTER_USER } from "./nats-auth.ts";
import { OWN_RESOURCES_LABEL, type PodResources, STAGE_RESOURCES } from "./resources.ts";

/** The image name every Baton manifest uses; k8s/components/image maps it to the released image. */
export const IMAGE = "baton";
/** What the image (infra/Dockerfile) runs for a command other than its entrypoint (`baton stage serve`). */
export const BATON_COMMAND = ["/usr/bin/tini", "--", "node", "/app/dist/baton.mjs"];
/** Where KEDA reads consumer lag: NATS's monitoring port, inside the cluster. */
export const NATS_MONITORING = "nats.baton.svc.cluster.local:8222";

export interface StepDeployment {
  step: string;
  stage: string;
  implementation: string;
}

const PART_OF = { "app.kubernetes.io/part-of": "baton" };
/** Baton's image runs as a numeric non-root user (infra/Dockerfile), so the kubelet can enforce it. */
export const POD_SECURITY = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
export const CONTAINER_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
/** The annotations a Prometheus with the usual kubernetes-pods scrape job reads. */
export const PROMETHEUS_SCRAPE = {
  "prometheus.io/scrape": "true",
  "prometheus.io/port": "8080",
  "prometheus.io/path": "/metrics",
};

/** Name of a step's ScaledJob (and the prefix of its Jobs and pods). */
export function scaledJobName(step: string): string {
  return `baton-${step.toLowerCase().replace(/_/g, "-")}`;
}

/** A step's ScaledJob: `baton stage serve <implementation> --step <step> --once` on its own NATS user. */
export function stageScaledJob(s: StepDeployment, ownResources?: PodResources): Record<string, unknown> {
  const labels = { ...PART_OF, "baton.dev/stage": s.step };
  const resources = ownResources ?? STAGE_RESOURCES;
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledJob",
    // a step's own resources are marked, so the overlays' components do not replace them
    metadata: {
      name: scaledJobName(s.step),
      labels: ownResources ? { ...labels, [OWN_RESOURCES_LABEL]: "step" } : labels,
    },
    spec: {
      pollingInterval: 10,
      maxReplicaCount: 2,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 5,
      jobTargetRef: {
        backoffLimit: 0,
        template: {
          // Prometheus scrapes the stage's /metrics while the pod lives
          metadata: { labels, annotations: PROMETHEUS_SCRAPE },
          spec: {
            restartPolicy: "Never",
            // longer than a train step: SIGTERM ends in a resume snapshot and a nak
            terminationGracePeriodSeconds: 300,
            securityContext: POD_SECURITY,
            containers: [
              {
                name: "stage",
                image: IMAGE,
                args: [s.implementation, "--step", s.step, "--once"],
                securityContext: CONTAINER_SECURITY,
                ports: [{ name: "http", containerPort: 8080 }],
                envFrom: [{ configMapRef: { name: "baton-env" } }, { secretRef: { name: "baton-s3" } }],
                env: [
                  { name: "NATS_USER", value: s.step },
                  { name: "NATS_PASSWORD", valueFrom: { secretKeyRef: { name: "baton-nats", key: s.step } } },
                ],
                readinessProbe: { httpGet: { path: "/readyz", port: "http" } },
                livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 30 },
                resources,
              },
            ],
          },
        },
      },
      triggers: [
        {
          type: "nats-jetstream",
          metadata: {
            natsServerMonitoringEndpoint: NATS_MONITORING,
            account: "$G",
            stream: STREAM,
            consumer: durableName(s.step),
            lagThreshold: "1",
          },
        },
      ],
    },
  };
}

/** Name of the ConfigMap a rendered overlay's consumers Job reads its recipe from. */
export const RECIPE_CONFIG_MAP = "baton-recipe";

/**
 * The Job that creates every step's durable consumer (`baton consumers <recipe>`) as the run starter,
 * reading the recipe file `file` from the ConfigMap `configMap`.
 */
export function consumersJob(recipe: string, configMap: string, file: string): Record<string, unknown> {
  const labels = { ...PART_OF, "baton.dev/service": "consumers", "baton.dev/nats-client": "true" };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: `baton-consumers-${
        recipe
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, "-")
          .replace(/^-+|-+$/g, "")
          .slice(0, 40) || "recipe"
      }`,
      labels,
    },
    spec: {
      // NATS may still be starting: retry, then go (a later `kubectl apply` runs it again; it is idempotent)
      backoffLimit: 20,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "OnFailure",
          securityContext: POD_SECURITY,
          containers: [
            {
              name: "consumers",
              image: IMAGE,
              command: BATON_COMMAND,
              args: ["consumers", `/etc/baton/recipe/${file}`],
              securityContext: CONTAINER_SECURITY,
              envFrom: [{ configMapRef: { name: "baton-env" } }],
              env: [
                { name: "NATS_USER", value: STARTER_USER },
                { name: "NATS_PASSWORD", valueFrom: { secretKeyRef: { name: "baton-nats", key: STARTER_USER } } },
              ],
              volumeMounts: [{ name: "recipe", mountPath: "/etc/baton/recipe", readOnly: true }],
              resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
            },
          ],
          volumes: [{ name: "recipe", configMap: { name: configMap } }],
        },
      },
    },
  };
}
