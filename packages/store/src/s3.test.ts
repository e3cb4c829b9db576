import { BatonError } from "@baton/contracts";
import { startS3 } from "@baton/testing";
import { describe, expect, it } from "vitest";
import { runStoreContract } from "./contract.ts";
import { S3Store } from "./s3.ts";

// Against a real S3 server (s3rver in its own process) on a free port; 5 MiB parts so 12 MiB is multipart.
runStoreContract("s3", async () => {
  const s3 = await startS3({ bucket: "contract" });
  const store = new S3Store({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    partSizeBytes: 5 * 1024 * 1024,
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await s3.dispose();
    },
  };
});

describe("S3 store while the server is down", () => {
  it("says STORE_UNAVAILABLE (retry) naming the endpoint, and works again after a restart", async () => {
    const s3 = await startS3({ bucket: "outage" });
    const store = new S3Store({
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    try {
      await store.putBytes("k", new Uint8Array([1, 2, 3]));
      await s3.stop();
      let caught: unknown;
      try {
        await store.getBytes("k");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BatonError);
      expect(caught).toMatchObject({ code: "STORE_UNAVAILABLE", disposition: "retry" });
      expect((caught as BatonError).message).toContain(s3.endpoint);
      await expect(store.ping()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
      await s3.restart();
      expect(Array.from(await store.getBytes("k"))).toEqual([1, 2, 3]);
    } finally {
      await store.close();
      await s3.dispose();
    }
  });
});
