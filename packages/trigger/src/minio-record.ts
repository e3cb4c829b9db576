// MinIO's S3 event notification message, field for field as a MinIO server publishes it to NATS
// (MINIO_NOTIFY_NATS_*), for tests and for feeding the trigger by hand.
/** A notification exactly as MinIO publishes it to NATS (docs: "Publish MinIO events via NATS"). */
export function minioNotification(
  bucket: string,
  key: string,
  eTag: string,
  eventName = "s3:ObjectCreated:Put",
): unknown {
  const encoded = encodeURIComponent(key).replace(/%20/g, "+");
  return {
    EventName: eventName,
    Key: `${bucket}/${key}`,
    Records: [
      {
        eventVersion: "2.0",
        eventSource: "minio:s3",
        awsRegion: "",
        eventTime: "2026-12-02T10:00:00.000Z",
        eventName,
        userIdentity: { principalId: "minioadmin" },
        requestParameters: { principalId: "minioadmin", region: "", sourceIPAddress: "127.0.0.1" },
        responseElements: { "x-amz-request-id": "17C5D4E1A2B3C4D5", "x-minio-origin-endpoint": "http://10.0.0.2:9000" },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "Config",
          bucket: { name: bucket, ownerIdentity: { principalId: "minioadmin" }, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: encoded,
            size: 1024,
            eTag,
            contentType: "application/x-ndjson",
            userMetadata: { "content-type": "application/x-ndjson" },
            sequencer: "17C5D4E1A2B3C4D6",
          },
        },
        source: {
          host: "127.0.0.1",
          port: "",
          userAgent: "MinIO (linux; amd64) minio-go/v7.0.63 mc/RELEASE.2023-10-30T18-43-32Z",
        },
      },
    ],
  };
}
