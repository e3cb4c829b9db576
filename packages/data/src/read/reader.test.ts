import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { collectDataset, readDataset } from "./reader.ts";

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ds-"));
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const jsonl = (...rows: unknown[]) =>
  `${rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n")}\n`;

describe("readDataset", () => {
  it("reads every JSONL format into typed records, with file:line provenance", async () => {
    const cases: Array<[string, unknown, object]> = [
      ["jsonl-text", { text: "hello", id: 3 }, { kind: "text", text: "hello", end: true }],
      ["prompt-completion", { prompt: "2+2=", completion: "4" }, { kind: "prompt-completion", completion: "4" }],
      ["alpaca", { instruction: "Say hi", output: "hi" }, { kind: "alpaca", input: "" }],
      [
        "chat",
        {
          messages: [
            { role: "user", content: "hi" },
            { role: "assistant", content: "yo" },
          ],
        },
        { kind: "chat" },
      ],
      ["preference", { prompt: "p", chosen: "a", rejected: "b" }, { kind: "preference", chosen: "a" }],
      [
        "ranking",
        { prompt: "p", responses: ["a", "b", "c"], ranking: [2, 0, 1] },
        { kind: "ranking", ranking: [2, 0, 1] },
      ],
    ];
    for (const [format, row, expected] of cases) {
      const path = await file("d.jsonl", jsonl(row, row));
      const { records, report } = await collectDataset(path, { format: format as "auto" });
      expect(records).toHaveLength(2);
      expect(records[1]).toMatchObject({ ...expected, where: "d.jsonl:2" });
      const auto = await collectDataset(path, { format: "auto" });
      expect(auto.report.format).toBe(format);
      expect(report).toMatchObject({ uri: pathToFileURL(path).href, lines: 2, records: 2, skipped: 0, complete: true });
    }
  });

  it("skips and counts bad lines with line-numbered reasons and JSON paths", async () => {
    const path = await file(
      "train.jsonl",
      jsonl(
        { prompt: "a", completion: "b" },
        "{not json",
        { prompt: "a" },
        { prompt: "a", completion: "   " },
        { prompt: "x".repeat(50), completion: "b" },
        "",
        { prompt: 3, completion: "b" },
        { prompt: "ok", completion: "fine" },
      ),
    );
    const { records, report } = await collectDataset(path, {
      format: "prompt-completion",
      policy: "skip",
      maxChars: 20,
    });
    expect(records.map((r) => r.where)).toEqual(["train.jsonl:1", "train.jsonl:8"]);
    expect(report.skipped).toBe(5);
    expect(report.errors[0]).toMatch(/^train\.jsonl:2: bad JSON \(/);
    expect(report.errors.slice(1)).toEqual([
      "train.jsonl:3: missing field /completion",
      "train.jsonl:4: /completion is empty (it needs a non-space character)",
      "train.jsonl:5: record is 51 chars, over maxChars 20",
      "train.jsonl:7: /prompt must be string",
    ]);
  });

  it("stops at the first bad line under policy fail", async () => {
    const path = await file(
      "chat.jsonl",
      jsonl(
        { messages: [{ role: "assistant", content: "a" }] },
        {
          messages: [
            { role: "user", content: "a" },
            { role: "robot", content: "b" },
          ],
        },
      ),
    );
    await expect(collectDataset(path, { format: "chat", policy: "fail" })).rejects.toThrow(
      /^chat\.jsonl:2: \/messages\/1\/role must be one of system, user, assistant \(policy "fail"/,
    );
    const noAssistant = await file("c.jsonl", jsonl({ messages: [{ role: "user", content: "a" }] }));
    await expect(collectDataset(noAssistant, { format: "chat" })).rejects.toThrow(
      /c\.jsonl:1: \/messages has no assistant turn/,
    );
    const badRank = await file("r.jsonl", jsonl({ prompt: "p", responses: ["a", "b"], ranking: [0, 0] }));
    await expect(collectDataset(badRank, { format: "ranking" })).rejects.toThrow(
      /r\.jsonl:1: \/ranking must be a permutation of 0\.\.1/,
    );
  });

  it("hashes exactly the bytes it streamed", async () => {
    const content = jsonl(...Array.from({ length: 500 }, (_, i) => ({ text: `doc ${i} ${"é".repeat(i % 7)}` })));
    const path = await file("c.jsonl", content);
    const { report } = await collectDataset(path, { format: "jsonl-text" });
    expect(report.sha256).toBe(createHash("sha256").update(content).digest("hex"));
    expect(report.bytes).toBe(Buffer.byteLength(content));
  });

  it("streams: the first record arrives before the file is read", async () => {
    const path = await file(
      "big.jsonl",
      jsonl(...Array.from({ length: 40_000 }, (_, i) => ({ text: `document number ${i}` }))),
    );
    const ds = readDataset(path, { format: "jsonl-text" });
    for await (const r of ds) {
      expect(r.text).toBe("document number 0");
      break;
    }
    expect(ds.report().bytes).toBeLessThan(200_000);
    expect(ds.report().complete).toBe(false);
  });

  it("reads a text file as one document in chunks, and refuses empty or binary files", async () => {
    const text = "To be, or not to be.\n".repeat(10_000);
    const { records, report } = await collectDataset(await file("corpus.txt", text), { format: "auto" });
    expect(records.length).toBeGreaterThan(1);
    expect(records.map((r) => (r as { text: string }).text).join("")).toBe(text);
    expect(records.map((r) => (r as { end: boolean }).end).filter(Boolean)).toHaveLength(1);
    expect(records.at(-1)).toMatchObject({ end: true });
    expect(report.format).toBe("text");
    // No telling extension: looked at, not guessed from the name.
    const plain = await collectDataset(await file("input", "plain words\nmore words\n"), { format: "auto" });
    expect(plain.report.format).toBe("text");
    expect(plain.records).toMatchObject([{ text: "plain words\nmore words\n", end: true }]);
    const lines = await collectDataset(await file("data", jsonl({ text: "a" }, { text: "b" })), { format: "auto" });
    expect(lines.report.format).toBe("jsonl-text");
    expect(lines.records).toHaveLength(2);
    await expect(collectDataset(await file("e.txt", " \n"), { format: "text" })).rejects.toThrow(
      /e\.txt: the text file is empty/,
    );
    await expect(
      collectDataset(await file("b.txt", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1])), {
        format: "text",
        policy: "skip",
      }),
    ).rejects.toThrow(/b\.txt: a NUL byte near byte 4; this looks like a binary file/);
    await expect(
      collectDataset(await file("u.jsonl", new Uint8Array([0x7b, 0xff, 0x7d, 0x0a])), {
        format: "jsonl-text",
        policy: "skip",
      }),
    ).rejects.toThrow(/u\.jsonl: invalid UTF-8/);
  });

  it("names a missing dataset, an unknown scheme, and a dataset with no valid record", async () => {
    await expect(collectDataset("/nonexistent/x.jsonl", { format: "jsonl-text" })).rejects.toThrow(
      /\/nonexistent\/x\.jsonl: dataset not found/,
    );
    await expect(collectDataset("s3://bucket/x.jsonl", { format: "jsonl-text" })).rejects.toThrow(
      /no opener for "s3:\/\/" URIs/,
    );
    await expect(
      collectDataset(await file("all-bad.jsonl", jsonl({ nope: 1 }, { text: "" })), {
        format: "jsonl-text",
        policy: "skip",
      }),
    ).rejects.toThrow(
      /all-bad\.jsonl: no valid records in 2 lines, 2 skipped \(first problem: all-bad\.jsonl:1: missing field \/text\)/,
    );
  });

  it("fetches http(s) URIs and hands other schemes to an injected opener", async () => {
    const body = jsonl({ text: "over http" }, { text: "second" });
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? "");
      if (req.url === "/d.jsonl") res.end(body);
      else if (req.url === "/moved.jsonl") res.writeHead(302, { location: "/d.jsonl" }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const { records, report } = await collectDataset(`http://127.0.0.1:${port}/d.jsonl`, { format: "jsonl-text" });
      expect(records.map((r) => r.text)).toEqual(["over http", "second"]);
      expect(report.sha256).toBe(createHash("sha256").update(body).digest("hex"));
      await expect(collectDataset(`http://127.0.0.1:${port}/missing.jsonl`, { format: "jsonl-text" })).rejects.toThrow(
        /missing\.jsonl: HTTP 404/,
      );
      // a redirect could lead anywhere (an internal host): refused, and not followed
      asked.length = 0;
      await expect(collectDataset(`http://127.0.0.1:${port}/moved.jsonl`, { format: "jsonl-text" })).rejects.toThrow(
        /moved\.jsonl: cannot fetch dataset .*redirects are not followed: name the final URL/,
      );
      expect(asked).toEqual(["/moved.jsonl"]);
    } finally {
      server.close();
    }
    const opened: string[] = [];
    const opener = (uri: string) => {
      if (!uri.startsWith("s3://")) return undefined;
      opened.push(uri);
      return Promise.resolve(
        (async function* () {
          yield new TextEncoder().encode('{"text":"from s3"}\n');
        })(),
      );
    };
    const { records } = await collectDataset("s3://bucket/k.jsonl", { format: "jsonl-text", opener });
    expect(records[0]!.text).toBe("from s3");
    expect(opened).toEqual(["s3://bucket/k.jsonl"]);
  });
});
