// The pipeline end-to-end tests' world: real nats-server and a real S3 server (local processes unless
// NATS_URL / S3_ENDPOINT are set), the demo data uploaded to S3, and stage services as separate OS
// processes started exactly as a deployment starts them: `baton stage serve <implementation>`.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { keys, parseRecipe, type Recipe } from "@baton/contracts";
import { type StageEnv, stageEnv } from "@baton/runner";
import { readRecipeFile } from "@baton/stage-registry";
import { startTestServices, type TestServices, tsxNodeArgs } from "@baton/testing";

const CLI = fileURLToPath(new URL("../../packages/cli/src/main.ts", import.meta.url));
export const RECIPES = fileURLToPath(new URL("./recipes/", import.meta.url));

export interface Cluster {
  services: TestServices;
  env: StageEnv;
  processEnv: Record<string, string>;
  workDir: string;
  close(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const services = await startTestServices();
  const workDir = await mkdtemp(join(tmpdir(), "baton-e2e-"));
  // heartbeats (working()) keep a training event alive; a short ack_wait only matters for crashes
  // BATON_HTTP_PORT 0: each service's HTTP face on a free port (they share one machine here)
  const processEnv = {
    ...services.env,
    BATON_ACK_WAIT_MS: "10000",
    BATON_HOME: workDir,
    BATON_MAX_ATTEMPTS: "2",
    BATON_HTTP_PORT: "0",
  };
  const env = await stageEnv({ ...process.env, ...processEnv });
  return {
    services,
    env,
    processEnv,
    workDir,
    async close() {
      await env.close();
      await services.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export interface ServiceProcess {
  output: string[];
  /** Base URL of its HTTP face, once it has printed it. */
  http(): string | undefined;
  exited: Promise<number | null>;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `baton stage serve <implementation> --step <step>` as its own process. */
export function serve(
  cluster: Cluster,
  implementation: string,
  step: string,
  extraArgs: string[] = [],
): ServiceProcess {
  const child = spawn(
    process.execPath,
    [...tsxNodeArgs(), CLI, "stage", "serve", implementation, "--step", step, "--threads", "2", ...extraArgs],
    {
      env: { ...process.env, ...cluster.processEnv },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  child.stdout!.on("data", (b: Buffer) => output.push(b.toString()));
  child.stderr!.on("data", (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    output,
    http: () => /http (http:\/\/\S+)/.exec(output.join(""))?.[1],
    exited,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the CLI to completion; returns its exit code and output. */
export function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...tsxNodeArgs(), CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

export const sha256File = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

/** Uploads every .jsonl of `dir` to the store under datasets/<name>/; file name -> s3:// URI. */
export async function uploadDatasets(env: StageEnv, dir: string, name: string): Promise<Map<string, string>> {
  const uris = new Map<string, string>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".jsonl"))) {
    const key = keys.dataset(name, file);
    await env.store.putFile(key, join(dir, file));
    uris.set(file, env.store.uri(key));
  }
  return uris;
}

export const DEMO_RECIPE = fileURLToPath(new URL("../../packages/cli/recipes/demo.yaml", import.meta.url));

/** A recipe (a file of tests/e2e/recipes/, or a path), its data file names replaced by `uris` (name -> URI). */
export async function recipeWith(file: string, uris: ReadonlyMap<string, string>, seed?: number): Promise<Recipe> {
  // relative names come back as file:// URIs beside the recipe; the file name picks the dataset
  const value = await readRecipeFile(file.startsWith("/") ? file : join(RECIPES, file));
  for (const step of value.steps) {
    step.data = step.data.map((d) => {
      const uri = uris.get(d.slice(d.lastIndexOf("/") + 1));
      if (!uri)
        throw new Error(
          `recipe ${file}: step ${step.name} names ${d}, which is not among the datasets (${[...uris.keys()].join(", ")})`,
        );
      return uri;
    });
  }
  if (seed !== undefined) value.seed = seed;
  return parseRecipe(value, file);
}
