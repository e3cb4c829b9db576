import { createEvent, encodeEvent } from "@baton/contracts";
import { describe, expect, it } from "vitest";
import { minioNotification as minioRecord } from "./minio-record.ts";
import { fromBucketNotification, fromEvent } from "./updates.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

describe("updates from MinIO's notification records", () => {
  it("reads bucket, decoded key and ETag from an ObjectCreated record", () => {
    const p = fromBucketNotification(
      enc(minioRecord("baton", "datasets/legal/new corpus/domain.train.jsonl", '"9b2cf535f27731c974343645a3985328"')),
      "baton.bucket.notifications#4",
    );
    expect(p.updates).toEqual([
      {
        kind: "dataset",
        uri: "s3://baton/datasets/legal/new corpus/domain.train.jsonl",
        etag: "9b2cf535f27731c974343645a3985328",
        from: "baton.bucket.notifications#4/Records/0",
      },
    ]);
  });

  it("skips deletions and the dataset manifest, saying why", () => {
    expect(
      fromBucketNotification(enc(minioRecord("baton", "datasets/legal/x.jsonl", "e", "s3:ObjectRemoved:Delete")), "s")
        .skipped,
    ).toEqual(["s3://baton/datasets/legal/x.jsonl: s3:ObjectRemoved:Delete creates no object"]);
    expect(fromBucketNotification(enc(minioRecord("baton", "datasets/legal/_dataset.json", "e")), "s").updates).toEqual(
      [],
    );
  });

  it("refuses malformed notifications with the JSON path", () => {
    expect(() => fromBucketNotification(enc("not json{"), "baton.bucket.notifications#9")).toThrow(
      /bucket notification at baton.bucket.notifications#9 is not UTF-8 JSON/,
    );
    expect(() => fromBucketNotification(enc({ EventName: "s3:ObjectCreated:Put" }), "s")).toThrow(
      /\/Records is missing or empty/,
    );
    const noKey = minioRecord("baton", "k", "e") as { Records: { s3: { object: { key?: string } } }[] };
    delete noKey.Records[0]!.s3.object.key;
    expect(() => fromBucketNotification(enc(noKey), "s")).toThrow(/\/Records\/0\/s3\/object\/key is missing/);
  });
});

describe("updates from Baton's events", () => {
  const sha = "a".repeat(64);
  it("dataset.updated: one update per pushed file; feedback.ready: the export and its checkpoint", () => {
    const d = createEvent({
      type: "dev.baton.dataset.updated",
      source: "t",
      data: {
        dataset: "legal",
        uri: "s3://b/d/",
        files: [
          { uri: "s3://b/d/a.jsonl", sha256: sha },
          { uri: "s3://b/d/b.jsonl", sha256: sha },
        ],
      },
    });
    expect(fromEvent(encodeEvent(d), "w").updates.map((u) => u.uri)).toEqual(["s3://b/d/a.jsonl", "s3://b/d/b.jsonl"]);
    const checkpoint = { uri: "s3://b/checkpoints/r/2-instruct/1-x/", manifestSha256: sha };
    const f = createEvent({
      type: "dev.baton.feedback.ready",
      source: "t",
      data: { uri: "s3://b/feedback/1.jsonl", sha256: sha, rankings: 40, checkpoint },
    });
    expect(fromEvent(encodeEvent(f), "w").updates).toEqual([
      { kind: "feedback", uri: "s3://b/feedback/1.jsonl", sha256: sha, checkpoint, from: f.id },
    ]);
  });

  it("refuses an event of another type, or one that fails its schema", () => {
    const other = createEvent({
      type: "dev.baton.run.completed",
      source: "t",
      data: {
        runId: "r",
        recipe: "x",
        pipeline: [{ name: "a", stage: "a", config: {}, data: [] }],
        checkpoint: { uri: "s3://b/c/", manifestSha256: sha },
      },
    });
    expect(() => fromEvent(encodeEvent(other), "baton.feedback.ready#3")).toThrow(
      /has type dev.baton.run.completed; the trigger's subjects carry/,
    );
    expect(() =>
      fromEvent(
        enc({
          specversion: "1.0",
          id: "x",
          source: "t",
          type: "dev.baton.feedback.ready",
          time: "2026-12-02T10:00:00Z",
          data: { uri: "s3://b/f.jsonl" },
        }),
        "w",
      ),
    ).toThrow(/missing required property "rankings"/);
  });
});
