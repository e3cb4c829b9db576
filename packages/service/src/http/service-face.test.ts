import { createEvent } from "@baton/contracts";
import { exampleData } from "@baton/contracts/testing";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { describe, expect, it } from "vitest";
import { startServiceFace } from "./service-face.ts";

describe("startServiceFace", () => {
  it("serves the HTTP face on a real socket and traces and counts what the runner reports", async () => {
    const exporter = new InMemorySpanExporter();
    const face = await startServiceFace({
      stage: "finetune",
      probes: { bus: async () => undefined },
      port: 0,
      hostname: "127.0.0.1",
      exporter,
      env: {},
    });
    try {
      const work = face.observer.onWork!({
        step: "sft",
        stage: "finetune",
        subject: "baton.checkpoint.ready.sft",
        headers: {},
        deliveryCount: 1,
        receivedAt: Date.now(),
      })!;
      work.onEvent!(
        createEvent({
          type: "dev.baton.checkpoint.ready",
          source: "test",
          data: exampleData["dev.baton.checkpoint.ready"],
        }),
      );
      await work.phase!("train", async () =>
        work.onProgress!({ trainStep: 2, totalSteps: 8, metrics: { loss: 1.25 } }),
      );

      const status = (await (await fetch(`${face.http.url}/status`)).json()) as Record<string, unknown>;
      expect(status).toMatchObject({ stage: "finetune", state: "working", runId: "run-1", loss: 1.25 });
      expect((await fetch(`${face.http.url}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${face.http.url}/metrics`)).text()).toContain(
        'baton_events_consumed_total{stage="finetune"} 1',
      );
      expect(work.headers!()["traceparent"]).toMatch(/^00-[0-9a-f]{32}-/);
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(["receive", "train"]);
    } finally {
      await face.close();
    }
  });

  it("says what is wrong with a bad BATON_HTTP_PORT", async () => {
    await expect(startServiceFace({ stage: "x", probes: {}, env: { BATON_HTTP_PORT: "http" } })).rejects.toThrow(
      /BATON_HTTP_PORT="http" is not a TCP port/,
    );
  });
});
