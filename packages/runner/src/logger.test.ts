import { describe, expect, it } from "vitest";
import { createLogger, redact, secretsFromEnv } from "./logger.ts";

describe("JSON-lines logger", () => {
  it("writes one JSON object per line with the relay's context", () => {
    const lines: string[] = [];
    const log = createLogger({ context: { stage: "sft" }, write: (l) => lines.push(l), secrets: [] });
    log.child({ runId: "r1", step: "chat", traceId: "abc" }).info("step committed", { cursor: 2 });
    log.debug("not written at info level");
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({
      level: "info",
      msg: "step committed",
      stage: "sft",
      runId: "r1",
      step: "chat",
      traceId: "abc",
      cursor: 2,
    });
    expect(typeof record["time"]).toBe("string");
  });

  it("never writes a secret: secret-named fields, known secret values, URL passwords", () => {
    const lines: string[] = [];
    const secrets = secretsFromEnv({
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI",
      AWS_REGION: "us-east-1",
      NATS_TOKEN: "t0k3n-value",
    });
    expect(secrets).toEqual(["wJalrXUtnFEMI", "t0k3n-value"]);
    const log = createLogger({ write: (l) => lines.push(l), secrets });
    log.error("upload failed", {
      config: { accessKeyId: "AKIA123", secretAccessKey: "wJalrXUtnFEMI", region: "us-east-1" },
      err: new Error("signature mismatch for key wJalrXUtnFEMI"),
      natsUrl: "nats://baton:hunter22@nats:4222",
      headers: { Authorization: "Bearer x" },
    });
    const line = lines[0]!;
    expect(line).not.toContain("wJalrXUtnFEMI");
    expect(line).not.toContain("hunter22");
    expect(line).not.toContain("AKIA123");
    expect(line).not.toContain("Bearer x");
    const record = JSON.parse(line) as { config: Record<string, string>; err: { message: string }; natsUrl: string };
    expect(record.config["region"]).toBe("us-east-1");
    expect(record.err.message).toBe("signature mismatch for key [redacted]");
    expect(record.natsUrl).toBe("nats://baton:[redacted]@nats:4222");
  });

  it("keeps ordinary values as they are", () => {
    const plain = {
      step: 3,
      tokens: [1, 2],
      tokensPerSecond: 900,
      tokenizer: "tokenizer.json",
      ok: true,
      nothing: null,
    };
    expect(redact(plain, [])).toEqual(plain);
    expect(redact({ token: "a", sessionToken: "b", NATS_TOKEN: "c" }, [])).toEqual({
      token: "[redacted]",
      sessionToken: "[redacted]",
      NATS_TOKEN: "[redacted]",
    });
  });
});
