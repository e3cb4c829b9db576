// Each stage's index.ts reads as its recipe (packages/stages/README.md): lines a reader takes in at
// once, and config values used as the strict loader typed them, never cast again.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const STAGES = fileURLToPath(new URL("../../", import.meta.url));
const MAX_LINE = 120;

async function stageIndexes(): Promise<{ file: string; lines: string[] }[]> {
  const out = [];
  for (const dir of (await readdir(STAGES, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    const file = join(STAGES, dir.name, "src", "index.ts");
    const text = await readFile(file, "utf8").catch(() => null);
    if (text !== null) out.push({ file: `${dir.name}/src/index.ts`, lines: text.split("\n") });
  }
  return out;
}

describe("stage index files read as recipes", () => {
  it("finds every stage package's index.ts", async () => {
    const files = (await stageIndexes()).map((f) => f.file);
    expect(files).toEqual(
      expect.arrayContaining([
        "pretrain/src/index.ts",
        "instruct/src/index.ts",
        "rlhf-ppo/src/index.ts",
        "lm/src/index.ts",
      ]),
    );
  });

  it(`has no line over ${MAX_LINE} characters; move a long one into a named helper (stage-lm when stages share it)`, async () => {
    const long = (await stageIndexes()).flatMap(({ file, lines }) =>
      lines.flatMap((l, i) => (l.length > MAX_LINE ? [`${file}:${i + 1} (${l.length})`] : [])),
    );
    expect(long).toEqual([]);
  });

  it("casts no config value: the strict loader types them (choice() for a value of a fixed set)", async () => {
    const casts = (await stageIndexes()).flatMap(({ file, lines }) =>
      lines.flatMap((l, i) => (/\bcfg(\.\w+)+ as /.test(l) ? [`${file}:${i + 1}: ${l.trim()}`] : [])),
    );
    expect(casts).toEqual([]);
  });
});
