import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateTypes } from "./codegen.ts";
import { BatonError } from "./errors.ts";
import { createEvent, decodeEvent, EVENT_TYPES, type EventType, encodeEvent } from "./events.ts";
import { exampleData, exampleManifest, exampleRecipe } from "./examples.ts";
import { TYPES_FILE } from "./gen-types.ts";
import { parseRecipe } from "./recipe.ts";
import { loadSchemaDocs } from "./schemas.ts";
import { assertValid, violations } from "./validate.ts";

const clone = <T>(v: T): T => structuredClone(v);

describe("generated types", () => {
  it("types.gen.ts is current with schemas/ (run `pnpm --filter @baton/contracts gen:types` if not)", () => {
    expect(readFileSync(TYPES_FILE, "utf8")).toBe(generateTypes(loadSchemaDocs()));
  });

  it("every event type has a data schema", () => {
    expect(generateTypes(loadSchemaDocs())).toContain('"dev.baton.feedback.ready": FeedbackReadyData;');
    for (const t of EVENT_TYPES) expect(violations(t, exampleData[t])).toEqual([]);
  });
});

describe("event contracts", () => {
  // One breaking change per event type, with the JSON path the error must name.
  const broken: { [K in EventType]: [string, (d: Record<string, unknown>) => void] } = {
    "dev.baton.checkpoint.ready": [
      "/data/pipeline/0/name",
      (d) => ((d.pipeline as { name: string }[])[0]!.name = "Bad Name"),
    ],
    "dev.baton.stage.started": ["/data/attempt", (d) => (d.attempt = 0)],
    "dev.baton.stage.progress": ["/data/metrics/loss", (d) => (d.metrics = { loss: "low" })],
    "dev.baton.stage.failed": ["/data/disposition", (d) => (d.disposition = "maybe")],
    "dev.baton.run.completed": [
      "/data/checkpoint/manifestSha256",
      (d) => ((d.checkpoint as { manifestSha256: string }).manifestSha256 = "xyz"),
    ],
    "dev.baton.dataset.updated": ["/data/uri", (d) => (d.uri = "ftp://host/x")],
    "dev.baton.feedback.ready": ["/data", (d) => delete d.rankings],
  };

  for (const type of EVENT_TYPES) {
    it(`${type}: a valid event round-trips, an invalid one is refused at its JSON path`, () => {
      const event = createEvent({ type, data: exampleData[type], source: "baton://test", id: "run-1:0:x" });
      expect(decodeEvent(encodeEvent(event), "test")).toEqual(event);

      const data = clone(exampleData[type]) as unknown as Record<string, unknown>;
      const [path, breakIt] = broken[type];
      breakIt(data);
      const bytes = new TextEncoder().encode(JSON.stringify({ ...event, data }));
      let caught: unknown;
      try {
        decodeEvent(bytes, "baton.test#4");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BatonError);
      const e = caught as BatonError;
      expect(e.code).toBe("EVENT_INVALID");
      expect(e.disposition).toBe("fatal");
      expect(e.message).toContain(`at ${path}`);
      expect(e.message).toContain("baton.test#4");
    });
  }

  it("refuses an envelope that is not CloudEvents 1.0", () => {
    const event = createEvent({
      type: "dev.baton.feedback.ready",
      data: exampleData["dev.baton.feedback.ready"],
      source: "s",
    });
    const bad = { ...event, specversion: "0.3", type: "dev.baton.unknown" };
    const found = violations("envelope", bad).map((v) => v.path);
    expect(found).toEqual(expect.arrayContaining(["/specversion", "/type"]));
  });

  it("calls non-JSON bytes malformed and shows the first bytes", () => {
    expect(() => decodeEvent(new TextEncoder().encode("not json {"), "baton.checkpoint.ready.x#9")).toThrow(
      /EVENT_MALFORMED|not UTF-8 JSON.*not json/,
    );
    try {
      decodeEvent(new Uint8Array([0xff, 0xfe, 0x00]), "s#1");
    } catch (err) {
      expect((err as BatonError).code).toBe("EVENT_MALFORMED");
    }
    expect.assertions(2);
  });
});

describe("manifest and recipe contracts", () => {
  it("accepts the example manifest and refuses a path that escapes the folder", () => {
    expect(violations("manifest", exampleManifest)).toEqual([]);
    const bad = clone(exampleManifest);
    bad.files[0]!.path = "../../etc/passwd";
    expect(violations("manifest", bad).map((v) => v.path)).toContain("/files/0/path");
    const noSize = clone(exampleManifest) as unknown as { files: Record<string, unknown>[] };
    delete noSize.files[1]!.size;
    expect(() => assertValid("manifest", noSize, "manifest.json", "MANIFEST_INVALID")).toThrow(
      /\/files\/1: missing required property "size"/,
    );
  });

  it("accepts a recipe and refuses duplicate step names, unknown keys and bad data URIs", () => {
    expect(parseRecipe(clone(exampleRecipe), "tiny.yaml")).toEqual(exampleRecipe);
    const dup = clone(exampleRecipe);
    dup.steps[1]!.name = "pretrain";
    expect(() => parseRecipe(dup, "tiny.yaml")).toThrow(/\/steps\/1\/name "pretrain" repeats \/steps\/0\/name/);
    const extra = { ...clone(exampleRecipe), stepz: [] };
    expect(() => parseRecipe(extra, "tiny.yaml")).toThrow(/unknown property "stepz"/);
    const uri = clone(exampleRecipe);
    uri.steps[0]!.data = ["/data/text.jsonl"];
    expect(() => parseRecipe(uri, "tiny.yaml")).toThrow(/at \/steps\/0\/data\/0: must match/);
  });
});
