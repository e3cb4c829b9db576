import { type LocalNats, startNats } from "@baton/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvState } from "./kv-state.ts";
import { MemoryBus } from "./memory.ts";
import { NatsBus } from "./nats.ts";

// Against a real nats-server: the compare-and-set is the server's.
describe("KvState over NATS KV", () => {
  let server: LocalNats;
  let bus: NatsBus;
  let kv: KvState<{ n: number }>;
  beforeAll(async () => {
    server = await startNats();
    bus = await NatsBus.connect({ servers: server.url });
    kv = await KvState.open(bus, "baton-test-state");
  });
  afterAll(async () => {
    await bus?.close();
    await server?.dispose();
  });

  it("create wins once; update and delete need the revision read", async () => {
    expect(await kv.create("a.1", { n: 1 })).toBe(true);
    expect(await kv.create("a.1", { n: 2 })).toBe(false);
    const read = (await kv.get("a.1"))!;
    expect(read.value).toEqual({ n: 1 });
    expect(await kv.update("a.1", { n: 3 }, read.revision)).toBe(true);
    expect(await kv.update("a.1", { n: 4 }, read.revision)).toBe(false); // a stale writer loses
    const now = (await kv.get("a.1"))!;
    expect(now.value).toEqual({ n: 3 });
    expect(await kv.delete("a.1", read.revision)).toBe(false);
    expect(await kv.keys("a.>")).toEqual(["a.1"]);
    expect(await kv.delete("a.1", now.revision)).toBe(true);
    expect(await kv.get("a.1")).toBeNull();
    expect(await kv.keys("a.>")).toEqual([]);
    expect(await kv.create("a.1", { n: 5 })).toBe(true); // a deleted key can be created again
  });

  it("refuses the in-memory bus, saying to set NATS_URL", async () => {
    await expect(KvState.open(new MemoryBus(), "x")).rejects.toThrow(/needs NATS: set NATS_URL/);
  });
});
