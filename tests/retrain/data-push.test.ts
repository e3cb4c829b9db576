// `baton data push` over a real nats-server and S3 server: the files land through the store, the
// folder's manifest lists each file's sha256 and size, and dataset.updated names every file with its
// digest. A second push of one file into the same folder keeps the manifest's other entries.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BatonEvent, decodeEvent, subjects } from "@baton/contracts";
import { readDatasetManifest } from "@baton/runner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, cli, sha256File, startCluster } from "../e2e/cluster.ts";

describe("baton data push", () => {
  let cluster: Cluster;
  let dir: string;
  const seen: BatonEvent<"dev.baton.dataset.updated">[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    dir = join(cluster.workDir, "legal");
    await mkdir(join(dir, "extra"), { recursive: true });
    await writeFile(join(dir, "domain.train.jsonl"), '{"text":"the court held the contract void"}\n'.repeat(20));
    await writeFile(join(dir, "domain.val.jsonl"), '{"text":"the appeal was dismissed"}\n'.repeat(4));
    await writeFile(join(dir, "extra", "notes.jsonl"), '{"text":"obiter dicta"}\n');
    await cluster.env.bus.watch("baton.dataset.updated.>", (m) => {
      const e = decodeEvent(m.data, m.subject);
      if (e.type === "dev.baton.dataset.updated") seen.push(e);
    });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it("uploads a folder, writes its manifest and announces every file with its sha256", {
    timeout: 60_000,
  }, async () => {
    const pushed = await cli(["data", "push", dir, "s3://baton/datasets/legal/2026-12"], cluster.processEnv);
    expect(pushed.code, pushed.stderr).toBe(0);
    const store = cluster.env.store;
    const want = await Promise.all(
      ["domain.train.jsonl", "domain.val.jsonl", "extra/notes.jsonl"].map(async (f) => ({
        uri: `s3://baton/datasets/legal/2026-12/${f}`,
        sha256: await sha256File(join(dir, f)),
      })),
    );
    for (const f of want) expect(pushed.stdout).toContain(`${f.uri}  sha256 ${f.sha256}`);

    const manifest = await readDatasetManifest(store, "datasets/legal/2026-12/_dataset.json");
    expect(manifest).toMatchObject({ formatVersion: 1, dataset: "legal", uri: "s3://baton/datasets/legal/2026-12/" });
    expect(manifest!.files.map((f) => [f.path, f.sha256])).toEqual([
      ["domain.train.jsonl", want[0]!.sha256],
      ["domain.val.jsonl", want[1]!.sha256],
      ["extra/notes.jsonl", want[2]!.sha256],
    ]);
    expect(new TextDecoder().decode(await store.getBytes("datasets/legal/2026-12/extra/notes.jsonl"))).toBe(
      '{"text":"obiter dicta"}\n',
    );

    await expect.poll(() => seen.length).toBe(1);
    const e = seen[0]!;
    expect(e.data).toMatchObject({
      dataset: "legal",
      uri: "s3://baton/datasets/legal/2026-12/",
      manifest: "s3://baton/datasets/legal/2026-12/_dataset.json",
    });
    expect(e.data.files).toEqual(want);
    expect(e.data.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("pushes one file into the folder: its own digest in the event, the manifest keeps the others", {
    timeout: 60_000,
  }, async () => {
    const file = join(cluster.workDir, "domain.val.jsonl");
    await writeFile(file, '{"text":"leave to appeal refused"}\n'.repeat(3));
    const pushed = await cli(["data", "push", file, "s3://baton/datasets/legal/2026-12/"], cluster.processEnv);
    expect(pushed.code, pushed.stderr).toBe(0);
    await expect.poll(() => seen.length).toBe(2);
    const sha = await sha256File(file);
    expect(seen[1]!.data).toMatchObject({
      dataset: "legal",
      uri: "s3://baton/datasets/legal/2026-12/domain.val.jsonl",
      sha256: sha,
      files: [{ uri: "s3://baton/datasets/legal/2026-12/domain.val.jsonl", sha256: sha }],
    });
    const manifest = await readDatasetManifest(cluster.env.store, "datasets/legal/2026-12/_dataset.json");
    expect(manifest!.files.map((f) => f.path)).toEqual(["domain.train.jsonl", "domain.val.jsonl", "extra/notes.jsonl"]);
    expect(manifest!.files[1]!.sha256).toBe(sha);
  });

  it("refuses bad input with what to do, and announces nothing", { timeout: 60_000 }, async () => {
    const missing = await cli(
      ["data", "push", join(cluster.workDir, "nope"), "s3://baton/datasets/legal/"],
      cluster.processEnv,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nope does not exist; give a local file or folder");
    const other = await cli(["data", "push", dir, "s3://another-bucket/datasets/legal/"], cluster.processEnv);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/another-bucket/);
    const badName = await cli(
      ["data", "push", dir, "s3://baton/datasets/legal/", "--name", "Legal Corpus"],
      cluster.processEnv,
    );
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain(`dataset name "Legal Corpus" must be lowercase letters, digits and '-'`);
    const { NATS_URL: _, ...noNats } = cluster.processEnv;
    const embedded = await cli(["data", "push", dir, "s3://baton/datasets/legal/"], noNats);
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toContain("set NATS_URL");
    // the subject the events went to, and nothing more on it
    expect(subjects.datasetUpdated("legal")).toBe("baton.dataset.updated.legal");
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toHaveLength(2);
  });
});
