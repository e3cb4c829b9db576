// What a delivery announces, in one shape whatever its source: Baton's dataset.updated and
// feedback.ready CloudEvents, or the object store's own S3 event notification records (MinIO's
// documented format: {EventName, Key, Records: [{eventVersion, eventSource, eventName, s3: {bucket:
// {name}, object: {key, size, eTag}}}]}), so a plain `mc cp` starts retraining like `baton data push`.
import { BatonError, type CheckpointRef, DATASET_MANIFEST_FILE, decodeEvent } from "@baton/contracts";

export interface Update {
  kind: "dataset" | "feedback";
  /** One object (a dataset file, a rankings export). */
  uri: string;
  /** Content identity: sha256 from Baton's events, the ETag from a bucket notification. */
  sha256?: string;
  etag?: string;
  /** feedback.ready: the checkpoint whose outputs were ranked. */
  checkpoint?: CheckpointRef;
  /** The announcing event (or record) for logs. */
  from: string;
}

export interface Parsed {
  updates: Update[];
  /** Records that announce nothing to train on (deletions, the dataset manifest), with why. */
  skipped: string[];
}

/** A Baton CloudEvent from the dataset.updated or feedback.ready subjects. Throws fatal on bad bytes. */
export function fromEvent(bytes: Uint8Array, where: string): Parsed {
  const e = decodeEvent(bytes, where);
  if (e.type === "dev.baton.dataset.updated") {
    const files = e.data.files ?? [{ uri: e.data.uri, ...(e.data.sha256 ? { sha256: e.data.sha256 } : {}) }];
    return {
      updates: files.map((f) => ({
        kind: "dataset",
        uri: f.uri,
        ...(f.sha256 ? { sha256: f.sha256 } : {}),
        from: e.id,
      })),
      skipped: [],
    };
  }
  if (e.type === "dev.baton.feedback.ready") {
    const d = e.data;
    return {
      updates: [
        {
          kind: "feedback",
          uri: d.uri,
          ...(d.sha256 ? { sha256: d.sha256 } : {}),
          ...(d.checkpoint ? { checkpoint: d.checkpoint } : {}),
          from: e.id,
        },
      ],
      skipped: [],
    };
  }
  throw BatonError.fatal(
    "ROUTING_MISMATCH",
    `event ${e.id} at ${where} has type ${e.type}; the trigger's subjects carry dev.baton.dataset.updated and dev.baton.feedback.ready only`,
  );
}

/** MinIO's notification message (one or more records). Throws fatal, naming the JSON path, on a malformed one. */
export function fromBucketNotification(bytes: Uint8Array, where: string): Parsed {
  const bad = (path: string, what: string): never => {
    throw BatonError.fatal(
      "EVENT_INVALID",
      `bucket notification at ${where}: ${path} ${what}. Expected MinIO's S3 event format {EventName, Key, Records: [{eventName, s3: {bucket: {name}, object: {key, eTag}}}]} (MINIO_NOTIFY_NATS_* on the server).`,
    );
  };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw BatonError.fatal(
      "EVENT_MALFORMED",
      `bucket notification at ${where} is not UTF-8 JSON (${(err as Error).message})`,
    );
  }
  const records = (value as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records) || records.length === 0) return bad("/Records", "is missing or empty");
  const out: Parsed = { updates: [], skipped: [] };
  records.forEach((r: unknown, i) => {
    const rec = r as {
      eventName?: unknown;
      eventSource?: unknown;
      s3?: { bucket?: { name?: unknown }; object?: { key?: unknown; eTag?: unknown; sequencer?: unknown } };
    } | null;
    const at = `/Records/${i}`;
    if (typeof rec !== "object" || rec === null) return bad(at, "is not an object");
    if (typeof rec.eventName !== "string") return bad(`${at}/eventName`, "is not a string");
    const bucket = rec.s3?.bucket?.name;
    const key = rec.s3?.object?.key;
    if (typeof bucket !== "string" || bucket === "") return bad(`${at}/s3/bucket/name`, "is missing");
    if (typeof key !== "string" || key === "") return bad(`${at}/s3/object/key`, "is missing");
    const etag = rec.s3?.object?.eTag;
    if (etag !== undefined && typeof etag !== "string") return bad(`${at}/s3/object/eTag`, "is not a string");
    let objectKey: string;
    try {
      // S3 event records carry the key form-encoded ('+' for a space, %XX for the rest)
      objectKey = decodeURIComponent(key.replace(/\+/g, " "));
    } catch {
      return bad(`${at}/s3/object/key`, `${JSON.stringify(key)} is not a form-encoded key`);
    }
    const uri = `s3://${bucket}/${objectKey}`;
    if (!rec.eventName.startsWith("s3:ObjectCreated:")) out.skipped.push(`${uri}: ${rec.eventName} creates no object`);
    else if (objectKey.endsWith("/")) out.skipped.push(`${uri}: a folder marker`);
    else if (objectKey.split("/").at(-1) === DATASET_MANIFEST_FILE)
      out.skipped.push(`${uri}: a dataset manifest (its files are announced one by one)`);
    else
      out.updates.push({
        kind: "dataset",
        uri,
        ...(etag ? { etag: etag.replace(/"/g, "") } : {}),
        from: `${where}${at}`,
      });
  });
  return out;
}
