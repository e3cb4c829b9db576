// `baton gc` against real NATS KV and a real S3 server: what no ledger entry references is listed by
// --dry-run and deleted without it; committed checkpoints stay whole; an uncommitted step's fresh
// folders (a live attempt may be writing them) stay until they are older than --older-than-min.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keys } from "@baton/contracts";
import { commitCheckpoint, openCheckpoint, type StageEnv, stageEnv } from "@baton/runner";
import { startTestServices, type TestServices } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./cluster.ts";

describe("baton gc", () => {
  let services: TestServices;
  let env: StageEnv;
  let dir: string;
  beforeAll(async () => {
    services = await startTestServices();
    env = await stageEnv({ ...process.env, ...services.env });
    dir = await mkdtemp(join(tmpdir(), "baton-gc-"));
  });
  afterAll(async () => {
    await env?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists with --dry-run, then deletes, every unreferenced folder and nothing referenced", async () => {
    const runId = `gc-${Date.now().toString(36)}`;
    await writeFile(join(dir, "model.safetensors"), "weights");
    const commit = (attempt: string) =>
      commitCheckpoint(env.store, {
        prefix: keys.checkpoint(runId, 0, "pre", attempt),
        dir,
        manifest: {
          runId,
          cursor: 0,
          step: "pre",
          stage: "pretrain",
          implementation: "t",
          version: "1",
          parent: null,
          config: {},
          datasets: [],
          metrics: {},
          traceId: null,
          startedAt: new Date().toISOString(),
        },
      });
    const kept = await commit("1-keep");
    await env.ledger.commit(runId, 0, {
      checkpoint: kept.ref,
      step: "pre",
      worker: "w",
      committedAt: new Date().toISOString(),
    });
    await commit("2-loser"); // a racing loser killed before it deleted its copy
    await env.store.putBytes(`${keys.checkpoint(runId, 0, "pre", "3-partial")}model.safetensors`, new Uint8Array(3)); // killed mid-upload
    await env.store.putBytes(`${keys.snapshot(runId, 0, 4)}state.safetensors`, new Uint8Array(5)); // snapshots of a committed step
    await env.store.putBytes(`${keys.checkpoint(runId, 1, "next", "1-live")}model.safetensors`, new Uint8Array(2)); // a step not committed yet

    const dry = await cli(["gc", "--dry-run", "--json"], services.env);
    expect(dry.code, dry.stderr).toBe(0);
    const listed = JSON.parse(dry.stdout) as {
      folders: { prefix: string; kind: string; why: string }[];
      deleted: number;
    };
    const ours = listed.folders.filter((f) => f.prefix.includes(runId));
    expect(ours.map((f) => f.prefix)).toEqual([
      keys.checkpoint(runId, 0, "pre", "2-loser"),
      keys.checkpoint(runId, 0, "pre", "3-partial"),
      keys.resume(runId, 0),
    ]);
    expect(ours[0]!.why).toContain(`committed ${kept.ref.uri} instead`);
    expect(listed.deleted).toBe(0);
    expect(await env.store.list(keys.stepCheckpoints(runId, 0, "pre"))).toHaveLength(5); // nothing deleted

    const gc = await cli(["gc"], services.env);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toContain(`deleted ${env.store.uri(keys.checkpoint(runId, 0, "pre", "2-loser"))}`);
    expect(await env.store.list(keys.stepCheckpoints(runId, 0, "pre"))).toEqual([
      `${keys.checkpoint(runId, 0, "pre", "1-keep")}manifest.json`,
      `${keys.checkpoint(runId, 0, "pre", "1-keep")}model.safetensors`,
    ]);
    expect(await env.store.list(keys.resume(runId, 0))).toEqual([]);
    await openCheckpoint(env.store, kept.ref, join(dir, "opened")); // still whole and verified
    expect(await env.store.list(keys.stepCheckpoints(runId, 1, "next"))).toHaveLength(1); // may be live: kept

    const old = await cli(["gc", "--older-than-min", "0"], services.env);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/was never committed and nothing here changed/);
    expect(await env.store.list(`checkpoints/${runId}/`)).toHaveLength(2);
  });

  it("refuses to run without the cluster's ledger", async () => {
    const res = await cli(["gc", "--dry-run"], { BATON_HOME: dir });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("baton gc needs the cluster's ledger");
  });
});
