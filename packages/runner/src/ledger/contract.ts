import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestCheckpoint } from "./latest.ts";
import type { Ledger, LedgerRecord } from "./ledger.ts";

export interface LedgerHarness {
  ledger: Ledger;
  cleanup(): Promise<void>;
}

const record = (worker: string): LedgerRecord => ({
  checkpoint: { uri: `s3://b/checkpoints/r/0-s/${worker}/`, manifestSha256: "a".repeat(64) },
  step: "s",
  worker,
  committedAt: new Date().toISOString(),
});

/** Exactly-once semantics every Ledger adapter must have. */
export function runLedgerContract(adapter: string, make: () => Promise<LedgerHarness>): void {
  describe(`Ledger contract: ${adapter}`, () => {
    let h: LedgerHarness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => {
      await h?.cleanup();
    });
    const run = (): string => `run-${randomUUID().slice(0, 8)}`;

    it("the first commit wins; a later one gets the winner's record", async () => {
      const r = run();
      expect(await h.ledger.get(r, 0)).toBeNull();
      const first = await h.ledger.commit(r, 0, record("w1"));
      expect(first.won).toBe(true);
      expect(first.record.worker).toBe("w1");
      const second = await h.ledger.commit(r, 0, record("w2"));
      expect(second.won).toBe(false);
      expect(second.record.worker).toBe("w1");
      expect((await h.ledger.get(r, 0))?.worker).toBe("w1");
      expect((await h.ledger.commit(r, 1, record("w2"))).won).toBe(true); // another cursor is another key
    });

    it("exactly one of five racing commits wins, and all agree on it", async () => {
      const r = run();
      const results = await Promise.all(["a", "b", "c", "d", "e"].map((w) => h.ledger.commit(r, 3, record(w))));
      expect(results.filter((x) => x.won)).toHaveLength(1);
      const winner = results.find((x) => x.won)!.record.worker;
      expect(results.every((x) => x.record.worker === winner)).toBe(true);
    });

    it("marks a step's next event as handed on, once and idempotently, per run and cursor", async () => {
      const r = run();
      await h.ledger.commit(r, 0, record("w1"));
      expect(await h.ledger.emitted(r, 0)).toBe(false);
      await h.ledger.markEmitted(r, 0);
      await h.ledger.markEmitted(r, 0); // a second worker that re-emitted too
      expect(await h.ledger.emitted(r, 0)).toBe(true);
      expect(await h.ledger.emitted(r, 1)).toBe(false);
    });

    it("keeps the newest checkpoint per pipeline and step", async () => {
      const step = `s-${randomUUID().slice(0, 6)}`;
      const pointer = (pipeline: string, worker: string) => ({
        pipeline,
        step,
        checkpoint: record(worker).checkpoint,
        runId: `run-${worker}`,
        committedAt: new Date().toISOString(),
      });
      expect(await h.ledger.latest("legal", step)).toBeNull();
      await h.ledger.setLatest(pointer("legal", "old"));
      await h.ledger.setLatest(pointer("legal", "new"));
      // another pipeline's step of the same name is another pointer; a recipe name may be free text
      await h.ledger.setLatest(pointer("medical notes (v2)", "other"));
      expect(await h.ledger.latest("legal", step)).toMatchObject({ pipeline: "legal", step, runId: "run-new" });
      expect((await h.ledger.latest("legal", step))?.checkpoint.uri).toContain("/new/");
      expect((await h.ledger.latest("medical notes (v2)", step))?.checkpoint.uri).toContain("/other/");
      expect(await h.ledger.latest("medical", step)).toBeNull();
      const mine = (await h.ledger.latestAll()).filter((p) => p.step === step);
      expect(mine.map((p) => [p.pipeline, p.runId])).toEqual([
        ["legal", "run-new"],
        ["medical notes (v2)", "run-other"],
      ]);
      await expect(latestCheckpoint(h.ledger, "legal", "never-ran")).rejects.toThrow(
        /no checkpoint of step "never-ran" of pipeline "legal"/,
      );
      expect((await latestCheckpoint(h.ledger, "legal", step)).uri).toContain("/new/");
    });
  });
}
