// What CI checks of every overlay: `kubectl kustomize` builds it, and every resource of the output
// validates against its schema (kubernetes-models for the Kubernetes API, @kubernetes-models/keda for
// KEDA 2.19's ScaledJob), each problem naming the resource and the field.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

export const K8S = fileURLToPath(new URL("../../k8s/", import.meta.url));

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** `kubectl kustomize <dir>`, parsed; a build error comes back with kubectl's own message. */
export async function kustomize(dir: string): Promise<Manifest[]> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)("kubectl", ["kustomize", dir], { maxBuffer: 64 << 20 }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT")
      throw new Error(
        "kubectl was not found on PATH: install it (Debian: apt-get install kubernetes-client; .ci/run does) to build the overlays",
      );
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr ?? e.message}`);
  }
  return parseAllDocuments(stdout).map((d) => d.toJS() as Manifest);
}

// apiVersion -> the module whose classes validate that group's kinds
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import("kubernetes-models/v1"),
  "apps/v1": () => import("kubernetes-models/apps/v1"),
  "batch/v1": () => import("kubernetes-models/batch/v1"),
  "networking.k8s.io/v1": () => import("kubernetes-models/networking.k8s.io/v1"),
  "keda.sh/v1alpha1": () => import("@kubernetes-models/keda/keda.sh/v1alpha1"),
};

/** Every schema problem of every resource, one line each: "<Kind>/<name>: /<field path> <what is wrong>". */
export async function manifestProblems(manifests: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of manifests) {
    const where = `${m.kind}/${m.metadata?.name ?? "(no name)"}`;
    const load = MODELS[m.apiVersion];
    const Model = load ? ((await load())[m.kind] as (new (v: unknown) => { validate(): void }) | undefined) : undefined;
    if (!Model) {
      problems.push(
        `${where}: no schema for apiVersion ${m.apiVersion} kind ${m.kind}; add its model to tests/k8s/kustomize.ts`,
      );
      continue;
    }
    try {
      new Model(m).validate();
    } catch (err) {
      const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
      if (!errors) throw err;
      for (const e of errors) problems.push(`${where}: ${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
    }
  }
  return problems;
}

/**
 * A copy of k8s/ whose credentials/*.env are filled from the committed examples (what an operator
 * does before `kubectl apply`), so the overlays build without a committed secret.
 */
export async function k8sWithCredentials(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "baton-k8s-")), "k8s");
  await cp(K8S, dir, { recursive: true });
  const credentials = join(dir, "base", "credentials");
  for (const example of (await readdir(credentials)).filter((f) => f.endsWith(".env.example"))) {
    const text = await readFile(join(credentials, example), "utf8");
    await writeFile(
      join(credentials, example.replace(/\.example$/, "")),
      text.replace(/^([^#=\s]+)=$/gm, (_l, key: string) => `${key}=p${randomBytes(12).toString("hex")}`),
    );
  }
  return dir;
}
