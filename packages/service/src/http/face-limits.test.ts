// The HTTP face under a flood: event streams past the cap are refused with 503, connections past
// theirs too, /healthz still answers, and the service goes on consuming and committing events.
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBus } from "@baton/bus";
import { awaitRun, MemoryLedger, serveStage, silentLogger, startRun } from "@baton/runner";
import { countingStage } from "@baton/runner/testing";
import { FsStore } from "@baton/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceFace, startServiceFace } from "./service-face.ts";

/** Opens /events and resolves with the status code once the head arrives; the stream stays open. */
function openStream(url: string, bodies: string[]): Promise<{ status: number; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/events`, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => bodies.push(chunk));
      res.on("error", () => undefined);
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HTTP face limits", () => {
  let dir: string;
  let face: ServiceFace;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "baton-face-"));
    face = await startServiceFace({
      stage: "count",
      probes: {},
      port: 0,
      env: { BATON_HTTP_MAX_EVENT_STREAMS: "100", BATON_HTTP_MAX_CONNECTIONS: "1000" },
    });
  });

  afterAll(async () => {
    await face?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("listens on 127.0.0.1 unless told otherwise, and says so", () => {
    expect(face.http.listening).toBe(`127.0.0.1:${face.http.port}`);
    expect(face.http.url).toBe(`http://127.0.0.1:${face.http.port}`);
  });

  it("cap 100, 500 concurrent /events: 400 refused with 503, /healthz answers, events still commit", {
    timeout: 60_000,
  }, async () => {
    const bus = new MemoryBus({ ackWaitMs: 5_000 });
    const store = new FsStore(join(dir, "store"));
    const ledger = new MemoryLedger();
    const service = serveStage({
      ...countingStage({ stage: "count", add: 1, steps: 3 }),
      step: "count",
      bus,
      store,
      ledger,
      observer: face.observer,
      logger: silentLogger,
      pullExpiresMs: 200,
    });
    const bodies: string[] = [];
    const streams = await Promise.all(Array.from({ length: 500 }, () => openStream(face.http.url, bodies)));
    try {
      expect(streams.filter((s) => s.status === 200)).toHaveLength(100);
      expect(streams.filter((s) => s.status === 503)).toHaveLength(400);
      const health = await fetch(`${face.http.url}/healthz`);
      expect(health.status).toBe(200);
      expect((await fetch(`${face.http.url}/events`)).status).toBe(503);

      const done = awaitRun(bus, "flood", { timeoutMs: 30_000 });
      await startRun(bus, {
        runId: "flood",
        recipe: { name: "flood", steps: [{ name: "count", stage: "count", config: {}, data: [] }] },
      });
      const completed = await done;
      expect(completed.checkpoint.uri).toContain("checkpoints/flood/0-count/");
      expect(await ledger.get("flood", 0)).not.toBeNull();
      // the streams that were let in saw the step finish
      await new Promise((r) => setTimeout(r, 200));
      expect(bodies.filter((b) => b.includes("event: finished")).length).toBeGreaterThanOrEqual(100);
    } finally {
      for (const s of streams) s.close();
      await service.stop();
    }
    // closed streams free their places
    await new Promise((r) => setTimeout(r, 200));
    const again = await openStream(face.http.url, []);
    expect(again.status).toBe(200);
    again.close();
  });

  it("a connection past BATON_HTTP_MAX_CONNECTIONS gets a 503 and is closed", async () => {
    const small = await startServiceFace({
      stage: "count",
      probes: {},
      port: 0,
      env: { BATON_HTTP_MAX_CONNECTIONS: "3", BATON_HTTP_MAX_EVENT_STREAMS: "10" },
    });
    const held = await Promise.all(Array.from({ length: 3 }, () => openStream(small.http.url, [])));
    try {
      expect(held.map((s) => s.status)).toEqual([200, 200, 200]);
      const refused = await openStream(small.http.url, []);
      expect(refused.status).toBe(503);
    } finally {
      for (const s of held) s.close();
      await small.close();
    }
  });

  it("BATON_HTTP_HOST chooses the interface; a bad cap is a clear error", async () => {
    const everywhere = await startServiceFace({
      stage: "count",
      probes: {},
      port: 0,
      env: { BATON_HTTP_HOST: "0.0.0.0" },
    });
    try {
      expect(everywhere.http.listening).toBe(`0.0.0.0:${everywhere.http.port} (every interface)`);
      expect((await fetch(`${everywhere.http.url}/healthz`)).status).toBe(200);
    } finally {
      await everywhere.close();
    }
    await expect(
      startServiceFace({ stage: "x", probes: {}, port: 0, env: { BATON_HTTP_MAX_EVENT_STREAMS: "lots" } }),
    ).rejects.toThrow(/BATON_HTTP_MAX_EVENT_STREAMS="lots" is not a positive integer/);
  });
});
