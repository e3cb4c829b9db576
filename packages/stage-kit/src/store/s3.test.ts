import { startS3 } from "../testing/s3-server.ts";
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
