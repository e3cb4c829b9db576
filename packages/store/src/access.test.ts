import { describe, expect, it } from "vitest";
import { allowLocations, anyLocation, dataAccessFor } from "./access.ts";
import { FsStore } from "./fs.ts";
import { S3Store } from "./s3.ts";

const s3 = new S3Store({ bucket: "baton", endpoint: "http://127.0.0.1:1" });

describe("data access", () => {
  it("a service reads its own store and nothing else by default", () => {
    const access = dataAccessFor(s3, false, {});
    expect(() => access.check("s3://baton/datasets/a/train.jsonl", "dataset")).not.toThrow();
    for (const uri of [
      "s3://other/train.jsonl",
      "s3://baton-other/x.jsonl",
      "file:///etc/passwd",
      "/etc/passwd",
      "data/train.jsonl",
      "http://127.0.0.1:8080/x.jsonl",
      "https://example.com/x.jsonl",
    ]) {
      expect(() => access.check(uri, 'step "pretrain" /data/0'), uri).toThrow(
        expect.objectContaining({ code: "DATA_NOT_ALLOWED", disposition: "fatal" }),
      );
    }
    expect(() => access.check("/etc/passwd", 'step "pretrain" /data/0')).toThrow(
      /step "pretrain" \/data\/0 "\/etc\/passwd" is outside the locations this service may read \(s3:\/\/baton\/\).*BATON_ALLOW_DATA/,
    );
  });

  it("BATON_ALLOW_DATA widens it, folder by folder; a climb out of a folder stays refused", () => {
    const access = dataAccessFor(s3, false, {
      BATON_ALLOW_DATA: "file:///data, s3://shared/corpora/ ,https://datasets.example.com/pub/",
    });
    for (const uri of [
      "file:///data/train.jsonl",
      "/data/sub/train.jsonl",
      "s3://shared/corpora/a.jsonl",
      "https://datasets.example.com/pub/a.jsonl",
    ]) {
      expect(() => access.check(uri, "dataset"), uri).not.toThrow();
    }
    for (const uri of [
      "file:///database/x",
      "file:///data/../etc/passwd",
      "/data/../etc/passwd",
      "file:///data/%2e%2e/etc/passwd",
      "s3://shared/other/a.jsonl",
      "https://datasets.example.com/private/a",
      "https://datasets.example.com.evil/pub/a",
    ]) {
      expect(() => access.check(uri, "dataset"), uri).toThrow(expect.objectContaining({ code: "DATA_NOT_ALLOWED" }));
    }
  });

  it("a folder store's own root is allowed; a relative BATON_ALLOW_DATA entry is a configuration error", () => {
    const fs = new FsStore("/var/lib/baton");
    expect(() =>
      dataAccessFor(fs, false, {}).check("file:///var/lib/baton/datasets/x/a.jsonl", "dataset"),
    ).not.toThrow();
    expect(() => dataAccessFor(fs, false, {}).check("file:///var/lib/other/a.jsonl", "dataset")).toThrow(/outside/);
    expect(() => dataAccessFor(fs, false, { BATON_ALLOW_DATA: "data/" })).toThrow(
      /BATON_ALLOW_DATA entry "data\/" is neither a URI prefix/,
    );
  });

  it("the embedded run (memory bus) reads what the user's recipe names", () => {
    expect(dataAccessFor(s3, true, {})).toBe(anyLocation);
    expect(() => anyLocation.check("/etc/hosts", "dataset")).not.toThrow();
    expect(() => allowLocations([]).check("s3://baton/x", "dataset")).toThrow(/\(nothing\)/);
  });
});
