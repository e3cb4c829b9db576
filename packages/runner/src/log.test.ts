import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonLogger, withFields } from "./log.ts";

describe("the runner's default logger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes JSON lines to stderr with the relay's fields and never a secret", () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const log = withFields(jsonLogger({ stage: "pretrain" }), { runId: "run-1" });
    log.warn("retrying upload", { endpoint: "http://baton:hunter22@minio:9000", secretAccessKey: "hunter22" });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(line).toMatchObject({ level: "warn", msg: "retrying upload", stage: "pretrain", runId: "run-1" });
    expect(lines[0]).not.toContain("hunter22");
  });
});
