import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keys } from "@baton/contracts";
import { FsStore } from "@baton/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "./log.ts";
import { snapshotApi } from "./snapshot.ts";

let root: string;
let store: FsStore;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "baton-snap-"));
  store = new FsStore(join(root, "store"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("resume snapshots", () => {
  it("returns the newest complete snapshot, keeps two, and ignores one without its index", async () => {
    const snaps = snapshotApi(store, "r", 0, join(root, "a"), silentLogger);
    expect(await snaps.latest()).toBeNull();
    for (const step of [2, 4, 6]) await snaps.save(step, { "weights.bin": new Uint8Array([step]) });
    // A save cut short by a kill: files but no _complete.json.
    await store.putBytes(keys.file(keys.snapshot("r", 0, 8), "weights.bin"), new Uint8Array([8]));
    const latest = await snaps.latest();
    expect(latest?.trainStep).toBe(6);
    expect(latest?.files).toEqual(["weights.bin"]);
    expect(Array.from(await readFile(join(latest!.dir, "weights.bin")))).toEqual([6]);
    const kept = new Set(
      (await store.list(keys.resume("r", 0))).filter((k) => k.endsWith("_complete.json")).map((k) => k.split("/")[4]),
    );
    expect(kept).toEqual(new Set([keys.snapshot("r", 0, 4).split("/")[4], keys.snapshot("r", 0, 6).split("/")[4]]));
  });

  it("falls back to the older snapshot when the newest one's bytes were damaged", async () => {
    const snaps = snapshotApi(store, "r2", 1, join(root, "b"), silentLogger);
    const state = join(root, "state.json");
    await writeFile(state, '{"rng":42}');
    await snaps.save(10, { "weights.bin": new Uint8Array([10]), "state.json": state });
    await snaps.save(20, { "weights.bin": new Uint8Array([20]), "state.json": state });
    await writeFile(join(store.root, keys.file(keys.snapshot("r2", 1, 20), "weights.bin")), new Uint8Array([99]));
    const latest = await snaps.latest();
    expect(latest?.trainStep).toBe(10);
    expect(await readFile(join(latest!.dir, "state.json"), "utf8")).toBe('{"rng":42}');
  });
});
