import { describe, expect, it } from "vitest";
import { createRedactor, secretsFromEnv } from "./redact.ts";

describe("the one redactor", () => {
  const env = {
    NATS_URL: "nats://baton:pass-one@nats-0:4222,nats://baton:pass%40two@nats-1:4222, nats://tok3n-only@nats-2:4222",
    S3_ENDPOINT: "http://minio:s3-endpoint-pass@minio:9000",
    AWS_ACCESS_KEY_ID: "AKIAFAKE123",
    AWS_SECRET_ACCESS_KEY: "wJalrFAKE/secret",
    NATS_PASSWORD: "natspw-xyz",
    OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer otel-xyz",
    S3_BUCKET: "baton",
  };

  it("finds every secret an environment holds: secret-named values and every URL's password", () => {
    const secrets = secretsFromEnv(env);
    for (const s of [
      "pass-one",
      "pass@two",
      "pass%40two",
      "tok3n-only",
      "s3-endpoint-pass",
      "AKIAFAKE123",
      "wJalrFAKE/secret",
      "wJalrFAKE%2Fsecret",
      "natspw-xyz",
      "authorization=Bearer otel-xyz",
    ])
      expect(secrets).toContain(s);
    expect(secrets).not.toContain("baton");
    // too short to be a real secret, and cutting it would mangle ordinary text
    expect(secretsFromEnv({ AWS_ACCESS_KEY_ID: "baton" })).toEqual([]);
  });

  it("cuts them out of any text, every occurrence, and hides URL passwords it was not told of", () => {
    const r = createRedactor(secretsFromEnv(env));
    const text = `connect ${env.NATS_URL} failed; s3 at ${env.S3_ENDPOINT} said AKIAFAKE123 / wJalrFAKE%2Fsecret; other nats://u:unknown-pw@h:1 and nats://unknown-token@h:2 and pass@two`;
    const out = r.text(text);
    for (const s of [
      "pass-one",
      "pass%40two",
      "pass@two",
      "tok3n-only",
      "s3-endpoint-pass",
      "AKIAFAKE123",
      "wJalrFAKE",
      "unknown-pw",
      "unknown-token",
    ])
      expect(out).not.toContain(s);
    expect(out).toContain("nats://baton:[redacted]@nats-0:4222,nats://baton:[redacted]@nats-1:4222");
    expect(out).toContain("http://minio:[redacted]@minio:9000");
    expect(out).toContain("nats://[redacted]@h:2");
  });

  it("strings() keeps an event's or a report's keys and numbers, value() also replaces secret-named fields", () => {
    const r = createRedactor(["s3cr3t-value"]);
    const event = { data: { message: "bad s3cr3t-value", tokens: 12, accessKey: "kept-as-field" } };
    expect(r.strings(event)).toEqual({ data: { message: "bad [redacted]", tokens: 12, accessKey: "kept-as-field" } });
    expect(r.value(event)).toEqual({ data: { message: "bad [redacted]", tokens: 12, accessKey: "[redacted]" } });
  });
});
