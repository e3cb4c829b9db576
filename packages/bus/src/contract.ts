import { randomUUID } from "node:crypto";
import { BatonError, type BatonEvent, createEvent, decodeEvent, msgId, subjects } from "@baton/contracts";
import { exampleData } from "@baton/contracts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bus, BusSettings, Delivery, Observed } from "./bus.ts";

/** Settings the contract runs with: short ackWait so redelivery is observable in a unit test. */
export const CONTRACT_SETTINGS: BusSettings = { ackWaitMs: 1_000, maxDeliver: 3, duplicateWindowMs: 120_000 };

export interface BusHarness {
  bus: Bus;
  cleanup(): Promise<void>;
}

/**
 * The semantics every Bus adapter must have. Each case uses its own step name, so cases do not see
 * each other's consumers even on one shared stream.
 */
export function runBusContract(adapter: string, make: (settings: BusSettings) => Promise<BusHarness>): void {
  describe(`Bus contract: ${adapter}`, () => {
    let h: BusHarness;
    beforeAll(async () => {
      h = await make(CONTRACT_SETTINGS);
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    const step = (): string => `s-${randomUUID().slice(0, 8)}`;
    const work = (runId: string, stepName: string): BatonEvent<"dev.baton.checkpoint.ready"> =>
      createEvent({
        type: "dev.baton.checkpoint.ready",
        id: msgId(runId, 0, "dev.baton.checkpoint.ready"),
        source: "baton://contract",
        data: {
          ...exampleData["dev.baton.checkpoint.ready"],
          runId,
          cursor: 0,
          pipeline: [{ name: stepName, stage: "pretrain", config: {}, data: [] }],
          checkpoint: null,
        },
      });
    const runOf = (d: Delivery): string =>
      (decodeEvent(d.data, d.subject) as BatonEvent<"dev.baton.checkpoint.ready">).data.runId;

    it("refuses to publish an invalid event, naming the JSON path", async () => {
      const s = step();
      const bad = { ...work("r1", s), data: { runId: "has space" } } as unknown as BatonEvent;
      await expect(h.bus.publish(subjects.checkpointReady(s), bad)).rejects.toThrow(/at \/data/);
      await expect(h.bus.publish(subjects.checkpointReady(s), bad)).rejects.toBeInstanceOf(BatonError);
    });

    it("dedupes a repeated msg id: five publishes, one delivery", async () => {
      const s = step();
      const acks = [];
      for (let i = 0; i < 5; i++) acks.push(await h.bus.publish(subjects.checkpointReady(s), work("dup", s)));
      expect(acks.map((a) => a.duplicate)).toEqual([false, true, true, true, true]);
      expect(new Set(acks.map((a) => a.seq)).size).toBe(1);
      const d = await h.bus.pull(s, { expiresMs: 2_000 });
      expect(d && runOf(d)).toBe("dup");
      await d!.ack();
      expect(await h.bus.pull(s, { expiresMs: 1_000 })).toBeNull();
    });

    it("a named durable consumer takes any subject filter: only its subjects, each once, kept across pulls", async () => {
      const name = `d-${randomUUID().slice(0, 8)}`;
      // only this case publishes dataset.updated on the shared stream
      const consumer = { durable: `trigger-${name}`, filter: subjects.allDatasetUpdated() };
      const updated = (dataset: string) =>
        createEvent({
          type: "dev.baton.dataset.updated",
          source: "baton://contract",
          data: { dataset, uri: `s3://b/datasets/${dataset}/x.jsonl` },
        });
      await h.bus.publish(subjects.datasetUpdated(`${name}-a`), updated(`${name}-a`));
      await h.bus.publish(subjects.checkpointReady(name), work("elsewhere", name));
      await h.bus.publish(subjects.datasetUpdated(`${name}-b`), updated(`${name}-b`));
      const got: string[] = [];
      for (let i = 0; i < 2; i++) {
        const d = await h.bus.pullDurable(consumer, { expiresMs: 2_000 });
        got.push(d!.subject);
        await d!.ack();
      }
      expect(got).toEqual([subjects.datasetUpdated(`${name}-a`), subjects.datasetUpdated(`${name}-b`)]);
      expect(await h.bus.pullDurable(consumer, { expiresMs: 1_000 })).toBeNull();

      // from "new": what the stream held before the consumer existed is not its work; what follows is
      const fresh = { durable: `late-${name}`, filter: subjects.allDatasetUpdated(), from: "new" as const };
      await h.bus.ensureConsumer(fresh);
      await h.bus.publish(subjects.datasetUpdated(`${name}-c`), updated(`${name}-c`));
      const d = await h.bus.pullDurable(fresh, { expiresMs: 2_000 });
      expect(d?.subject).toBe(subjects.datasetUpdated(`${name}-c`));
      await d!.ack();
      expect(await h.bus.pullDurable(fresh, { expiresMs: 1_000 })).toBeNull();
    });

    it("hands out one message at a time (max_ack_pending 1), in order, with headers", async () => {
      const s = step();
      await h.bus.publish(subjects.checkpointReady(s), work("a", s), {
        headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      });
      await h.bus.publish(subjects.checkpointReady(s), work("b", s));
      const first = await h.bus.pull(s, { expiresMs: 2_000 });
      expect(first && runOf(first)).toBe("a");
      expect(first!.headers.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
      // ...and as the event's CloudEvents distributed-tracing attribute
      expect(decodeEvent(first!.data, "test").traceparent).toBe(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      );
      expect(first!.deliveryCount).toBe(1);
      const beat = setInterval(() => first!.working(), CONTRACT_SETTINGS.ackWaitMs / 3);
      try {
        expect(await h.bus.pull(s, { expiresMs: 1_500 })).toBeNull(); // "b" waits while "a" is unacked
      } finally {
        clearInterval(beat);
      }
      await first!.ack();
      const second = await h.bus.pull(s, { expiresMs: 2_000 });
      expect(second && runOf(second)).toBe("b");
      await second!.ack();
    });

    it("redelivers an unacked message after ackWait, counting deliveries", async () => {
      const s = step();
      await h.bus.publish(subjects.checkpointReady(s), work("lost", s));
      const first = await h.bus.pull(s, { expiresMs: 2_000 });
      expect(first!.deliveryCount).toBe(1);
      // The worker "dies": no ack, no heartbeat.
      const again = await h.bus.pull(s, { expiresMs: 5_000 });
      expect(again && runOf(again)).toBe("lost");
      expect(again!.deliveryCount).toBe(2);
      await again!.ack();
    });

    it("keeps a message while working() heartbeats run past ackWait", async () => {
      const s = step();
      await h.bus.publish(subjects.checkpointReady(s), work("long", s));
      const d = await h.bus.pull(s, { expiresMs: 2_000 });
      const beat = setInterval(() => d!.working(), CONTRACT_SETTINGS.ackWaitMs / 3);
      try {
        // 2.5 x ackWait of "training": nobody else may get the message.
        expect(await h.bus.pull(s, { expiresMs: CONTRACT_SETTINGS.ackWaitMs * 2.5 })).toBeNull();
      } finally {
        clearInterval(beat);
      }
      await d!.ack();
      expect(await h.bus.pull(s, { expiresMs: 1_500 })).toBeNull();
    });

    it("nak(delay) redelivers only after the delay; term() never redelivers", async () => {
      const s = step();
      await h.bus.publish(subjects.checkpointReady(s), work("flaky", s));
      const d = await h.bus.pull(s, { expiresMs: 2_000 });
      d!.nak(2_500);
      expect(await h.bus.pull(s, { expiresMs: 1_000 })).toBeNull();
      const again = await h.bus.pull(s, { expiresMs: 5_000 });
      expect(again!.deliveryCount).toBe(2);
      again!.term("bad input");
      expect(await h.bus.pull(s, { expiresMs: 1_500 })).toBeNull();
    });

    it("stops delivering after maxDeliver attempts", async () => {
      const s = step();
      await h.bus.publish(subjects.checkpointReady(s), work("doomed", s));
      const counts: number[] = [];
      for (let i = 0; i < CONTRACT_SETTINGS.maxDeliver; i++) {
        const d = await h.bus.pull(s, { expiresMs: 3_000 });
        counts.push(d!.deliveryCount);
        d!.nak(0);
      }
      expect(counts).toEqual([1, 2, 3]);
      expect(await h.bus.pull(s, { expiresMs: 1_500 })).toBeNull();
    });

    it("watch replays what the stream holds, then follows new messages, by filter", async () => {
      const s = step();
      await h.bus.publish(subjects.checkpointReady(s), work("w1", s));
      const seen: Observed[] = [];
      const unwatch = await h.bus.watch(`baton.*.ready.${s}`, (m) => seen.push(m));
      await h.bus.publish(subjects.checkpointReady(s), work("w2", s));
      await h.bus.publish(
        subjects.stageFailed(s),
        createEvent({
          type: "dev.baton.stage.failed",
          source: "t",
          data: { ...exampleData["dev.baton.stage.failed"], step: s },
        }),
      );
      const until = Date.now() + 5_000;
      while (seen.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await unwatch();
      expect(
        seen.map((m) => (decodeEvent(m.data, m.subject) as BatonEvent<"dev.baton.checkpoint.ready">).data.runId),
      ).toEqual(["w1", "w2"]);
      expect(seen[0]!.seq).toBeLessThan(seen[1]!.seq);
    });

    it("answers ping while open", async () => {
      await expect(h.bus.ping()).resolves.toBeUndefined();
    });
  });
}
