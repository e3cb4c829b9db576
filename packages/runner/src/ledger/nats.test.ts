import { connectNats } from "@baton/bus";
import { startNats } from "@baton/testing";
import { describe, expect, it } from "vitest";
import { runLedgerContract } from "./contract.ts";
import { NatsLedger } from "./nats.ts";

// Against a real nats-server: KV create() is what refuses the second writer.
runLedgerContract("nats", async () => {
  const server = await startNats();
  const nc = await connectNats(server.url);
  return {
    ledger: await NatsLedger.connect(nc),
    cleanup: async () => {
      await nc.close();
      await server.dispose();
    },
  };
});

describe("NatsLedger with nats-server away", () => {
  it("reports a failed commit as a commit failure (retryable), not as a failed read", async () => {
    const server = await startNats();
    const nc = await connectNats(server.url);
    try {
      const ledger = await NatsLedger.connect(nc);
      await server.stop();
      const err = await ledger
        .commit("away", 0, {
          checkpoint: { uri: "s3://b/x/", manifestSha256: "a".repeat(64) },
          step: "s",
          worker: "w",
          committedAt: new Date().toISOString(),
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "LEDGER_UNAVAILABLE", disposition: "retry" });
      expect((err as Error).message).toMatch(
        /^ledger commit of away\.0 in KV baton-ledger failed: .*; the attempt is retried$/s,
      );
    } finally {
      await nc.close().catch(() => undefined);
      await server.dispose();
    }
  }, 60_000);
});
