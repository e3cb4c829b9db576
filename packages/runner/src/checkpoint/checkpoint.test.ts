import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckpointRef } from "@baton/contracts";
import { BatonError, keys } from "@baton/contracts";
import { FsStore } from "@baton/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitCheckpoint, lineage, type ManifestDraft, mapLimit, openCheckpoint, readManifest } from "./checkpoint.ts";

let root: string;
let store: FsStore;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "baton-ckpt-"));
  store = new FsStore(join(root, "store"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const draft = (cursor: number, step: string, parent: CheckpointRef | null): ManifestDraft => ({
  runId: "run-1",
  cursor,
  step,
  stage: "pretrain",
  implementation: "test-impl",
  version: "1.0.0",
  parent,
  config: { lr: 0.001 },
  datasets: [{ uri: "file:///data/a.jsonl", sha256: "a".repeat(64) }],
  metrics: { loss: 1 / (cursor + 1) },
  traceId: null,
  startedAt: new Date().toISOString(),
});

async function writeOutput(name: string, weights: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, "extra"), { recursive: true });
  await writeFile(join(dir, "model.safetensors"), weights);
  await writeFile(join(dir, "config.json"), '{"n_layer":1}');
  await writeFile(join(dir, "extra", "notes.txt"), "nested files keep their relative path");
  return dir;
}

async function caught(p: Promise<unknown>): Promise<BatonError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BatonError) return err;
    throw err;
  }
  throw new Error("expected a BatonError");
}

describe("checkpoints", () => {
  it("commits files then the manifest, and opens them verified", async () => {
    const dir = await writeOutput("out0", "weights-0");
    const prefix = keys.checkpoint("run-1", 0, "pre", "a0");
    const c = await commitCheckpoint(store, { prefix, dir, manifest: draft(0, "pre", null) });
    expect(c.ref.uri).toBe(store.uri(prefix));
    expect(c.manifest.files.map((f) => f.path)).toEqual(["config.json", "extra/notes.txt", "model.safetensors"]);
    expect(await store.list(prefix)).toContain(keys.manifest(prefix));

    const opened = await openCheckpoint(store, c.ref, join(root, "open0"));
    expect(await readFile(join(opened.dir, "model.safetensors"), "utf8")).toBe("weights-0");
    expect(await readFile(join(opened.dir, "extra", "notes.txt"), "utf8")).toContain("relative path");
    expect(opened.manifest).toEqual(c.manifest);
    expect(await readManifest(store, c.ref.uri)).toEqual(c.manifest);
  });

  it("refuses a checkpoint whose file changed after commit, naming the file and both digests", async () => {
    const dir = await writeOutput("out-bad", "good weights");
    const prefix = keys.checkpoint("run-1", 0, "pre", "bad");
    const c = await commitCheckpoint(store, { prefix, dir, manifest: draft(0, "pre", null) });
    await writeFile(join(store.root, keys.file(prefix, "model.safetensors")), "evil weights");
    const dest = join(root, "open-bad");
    const e = await caught(openCheckpoint(store, c.ref, dest));
    expect(e.code).toBe("CHECKPOINT_CORRUPT");
    expect(e.message).toContain(`model.safetensors of checkpoint ${c.ref.uri}`);
    expect(e.message).toContain(c.manifest.files.find((f) => f.path === "model.safetensors")!.sha256);
    expect(existsSync(dest)).toBe(false); // the corrupted bytes are never left for training
  });

  it("refuses a manifest that does not match the digest the event carries", async () => {
    const dir = await writeOutput("out-m", "w");
    const c = await commitCheckpoint(store, {
      prefix: keys.checkpoint("run-1", 0, "pre", "m"),
      dir,
      manifest: draft(0, "pre", null),
    });
    const e = await caught(openCheckpoint(store, { ...c.ref, manifestSha256: "f".repeat(64) }, join(root, "open-m")));
    expect(e.code).toBe("CHECKPOINT_CORRUPT");
    expect(e.message).toContain("manifest.json of checkpoint");
  });

  it("opens from a ref without a file list (manifest first), and refuses a ref whose list disagrees with the manifest", async () => {
    const dir = await writeOutput("out-list", "w-list");
    const c = await commitCheckpoint(store, {
      prefix: keys.checkpoint("run-1", 0, "pre", "list"),
      dir,
      manifest: draft(0, "pre", null),
    });
    expect(c.ref.files?.map((f) => f.path)).toEqual(["config.json", "extra/notes.txt", "model.safetensors"]);
    const bare = await openCheckpoint(
      store,
      { uri: c.ref.uri, manifestSha256: c.ref.manifestSha256 },
      join(root, "open-bare"),
    );
    expect(await readFile(join(bare.dir, "model.safetensors"), "utf8")).toBe("w-list");
    const short = { ...c.ref, files: c.ref.files!.slice(1) };
    const dest = join(root, "open-short");
    const e = await caught(openCheckpoint(store, short, dest));
    expect(e.code).toBe("CHECKPOINT_CORRUPT");
    expect(e.message).toMatch(/file list in the event's ref differs from its manifest.json/);
    expect(existsSync(dest)).toBe(false);
  });

  it("says CHECKPOINT_MISSING for an uncommitted folder and refuses an empty output", async () => {
    const e = await caught(
      openCheckpoint(
        store,
        { uri: store.uri("checkpoints/run-1/9-none/x/"), manifestSha256: "a".repeat(64) },
        join(root, "none"),
      ),
    );
    expect(e.code).toBe("CHECKPOINT_MISSING");
    expect(e.message).toMatch(/never committed/);
    await mkdir(join(root, "empty"));
    expect(
      (
        await caught(
          commitCheckpoint(store, {
            prefix: keys.checkpoint("run-1", 0, "pre", "e"),
            dir: join(root, "empty"),
            manifest: draft(0, "pre", null),
          }),
        )
      ).message,
    ).toMatch(/ctx.outputDir/);
  });

  it("writes manifest.json after every file it lists", async () => {
    const order: string[] = [];
    const recording = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop === "string" && prop.startsWith("put") && typeof value === "function") {
          return async (key: string, ...rest: unknown[]) => {
            const r = await (value as (...a: unknown[]) => Promise<unknown>).call(target, key, ...rest);
            order.push(key);
            return r;
          };
        }
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const dir = await writeOutput("out-order", "w");
    const prefix = keys.checkpoint("run-1", 0, "pre", "order");
    await commitCheckpoint(recording, { prefix, dir, manifest: draft(0, "pre", null) });
    expect(order).toHaveLength(4);
    expect(order.at(-1)).toBe(keys.manifest(prefix));
  });

  it("refuses a lineage whose parent manifest was changed after its child was committed", async () => {
    const parentDir = await writeOutput("lin-p", "p");
    const parentPrefix = keys.checkpoint("run-2", 0, "pre", "p");
    const parent = await commitCheckpoint(store, {
      prefix: parentPrefix,
      dir: parentDir,
      manifest: draft(0, "pre", null),
    });
    const child = await commitCheckpoint(store, {
      prefix: keys.checkpoint("run-2", 1, "sft", "c"),
      dir: await writeOutput("lin-c", "c"),
      manifest: draft(1, "sft", parent.ref),
    });
    const tampered = { ...parent.manifest, metrics: { loss: 0 } };
    await writeFile(join(store.root, keys.manifest(parentPrefix)), JSON.stringify(tampered));
    const e = await caught(lineage(store, child.ref));
    expect(e.code).toBe("CHECKPOINT_CORRUPT");
    expect(e.message).toContain(`manifest.json of checkpoint ${parent.ref.uri}`);
  });

  it("walks lineage back to random init with config and data at every hop", async () => {
    let parent: CheckpointRef | null = null;
    const steps = ["pre", "cpt", "sft"];
    for (const [i, step] of steps.entries()) {
      const dir = await writeOutput(`lin-${step}`, `weights-${step}`);
      parent = (
        await commitCheckpoint(store, {
          prefix: keys.checkpoint("run-1", i, step, "l"),
          dir,
          manifest: draft(i, step, parent),
        })
      ).ref;
    }
    const hops = await lineage(store, parent!);
    expect(hops.map((h) => h.manifest.step)).toEqual(["sft", "cpt", "pre"]);
    expect(hops.at(-1)!.manifest.parent).toBeNull();
    expect(hops.every((h) => h.manifest.datasets.length === 1 && h.manifest.config.lr === 0.001)).toBe(true);
  });
});

describe("parallel transfers", () => {
  it("mapLimit starts no new work after the first failure, waits for the work in flight, and rejects with the first error", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      started.push(i);
      if (i === 1) throw new Error("first");
      if (i === 2) {
        await new Promise((r) => setTimeout(r, 5));
        throw new Error("second");
      }
      await new Promise((r) => setTimeout(r, 40));
      finished.push(i);
      return i;
    });
    await expect(run).rejects.toThrow("first");
    expect(started).toEqual([0, 1, 2]);
    expect(finished).toEqual([0]); // settled only after the slow one in flight was done
    expect(await mapLimit([1, 2, 3], 2, async (i) => i * 2)).toEqual([2, 4, 6]);
  });

  it("a corrupt file among slow downloads stays CHECKPOINT_CORRUPT and leaves no folder behind", async () => {
    const files = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`part-${i}.bin`, `bytes of part ${i} `.repeat(2000)]),
    );
    const dir = join(root, "many-out");
    await mkdir(dir, { recursive: true });
    for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
    const { ref } = await commitCheckpoint(store, {
      prefix: keys.checkpoint("run-par", 0, "s", "a"),
      dir,
      manifest: draft(0, "s", null),
    });
    await store.putBytes(keys.file(store.keyOf(ref.uri), "part-0.bin"), new TextEncoder().encode("tampered"));
    // Slow every other read, so the other workers are still writing when part-0 fails.
    const slow = Object.assign(Object.create(store) as FsStore, {
      getFile: async (key: string, path: string, expect?: Parameters<FsStore["getFile"]>[2]) => {
        if (!key.endsWith("part-0.bin")) await new Promise((r) => setTimeout(r, 30));
        return store.getFile(key, path, expect);
      },
    });
    const dest = join(root, "many-in");
    const err = await openCheckpoint(slow, ref, dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatonError);
    expect(err).toMatchObject({ code: "CHECKPOINT_CORRUPT", disposition: "fatal" });
    expect((err as Error).message).toContain("part-0.bin");
    expect(existsSync(dest)).toBe(false);
  });
});
