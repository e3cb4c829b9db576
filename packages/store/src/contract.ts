import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BatonError } from "@baton/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "./store.ts";

export interface StoreHarness {
  store: Store;
  cleanup(): Promise<void>;
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

async function rejection(p: Promise<unknown>): Promise<BatonError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BatonError);
    return err as BatonError;
  }
  throw new Error("expected a rejection");
}

/** The semantics every Store adapter must have. Each case writes under its own prefix. */
export function runStoreContract(adapter: string, make: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${adapter}`, () => {
    let h: StoreHarness;
    let local: string;
    let n = 0;
    const prefix = (): string => `contract/${Date.now()}-${n++}/`;
    beforeAll(async () => {
      h = await make();
      local = await mkdtemp(join(tmpdir(), "baton-store-contract-"));
    });
    afterAll(async () => {
      await h?.cleanup();
      await rm(local, { recursive: true, force: true });
    });

    it("puts bytes, files and streams and returns their sha256 and size", async () => {
      const p = prefix();
      const bytes = randomBytes(100_000);
      expect(await h.store.putBytes(`${p}a.bin`, bytes)).toEqual({ sha256: sha(bytes), size: bytes.length });
      const file = join(local, "b.bin");
      await writeFile(file, bytes.subarray(0, 777));
      expect(await h.store.putFile(`${p}b.bin`, file)).toEqual({ sha256: sha(bytes.subarray(0, 777)), size: 777 });
      const parts = [bytes.subarray(0, 10), bytes.subarray(10, 5000)];
      expect(await h.store.putStream(`${p}c.bin`, Readable.from(parts))).toEqual({
        sha256: sha(bytes.subarray(0, 5000)),
        size: 5000,
      });
      expect(Buffer.from(await h.store.getBytes(`${p}a.bin`, { sha256: sha(bytes), size: bytes.length }))).toEqual(
        bytes,
      );
      expect(await h.store.head(`${p}b.bin`)).toEqual({ size: 777, modified: expect.any(Date) }); // modified: what `baton gc` ages folders by
      expect(await h.store.head(`${p}missing.bin`)).toBeNull();
    });

    it("streams a multi-part object (12 MiB) through and back with the same digest", async () => {
      const p = prefix();
      const big = randomBytes(12 * 1024 * 1024);
      const put = await h.store.putStream(
        `${p}big.bin`,
        Readable.from(
          (function* () {
            for (let i = 0; i < big.length; i += 1024 * 1024) yield big.subarray(i, i + 1024 * 1024);
          })(),
        ),
      );
      expect(put).toEqual({ sha256: sha(big), size: big.length });
      const target = join(local, "big.out");
      expect(await h.store.getFile(`${p}big.bin`, target, { sha256: sha(big), size: big.length })).toEqual(put);
      expect(sha(await readFile(target))).toBe(sha(big));
    });

    it("refuses bytes that do not match the expected digest, naming both digests, and leaves no file", async () => {
      const p = prefix();
      const bytes = randomBytes(4096);
      await h.store.putBytes(`${p}model.safetensors`, bytes);
      const wrong = "0".repeat(64);
      const target = join(local, "never.bin");
      const e = await rejection(
        h.store.getFile(`${p}model.safetensors`, target, {
          sha256: wrong,
          what: "model.safetensors of the test checkpoint",
        }),
      );
      expect(e.code).toBe("CHECKPOINT_CORRUPT");
      expect(e.disposition).toBe("fatal");
      expect(e.message).toContain(sha(bytes));
      expect(e.message).toContain(wrong);
      expect(e.message).toContain("model.safetensors of the test checkpoint");
      expect(existsSync(target)).toBe(false);
      expect((await rejection(h.store.getBytes(`${p}model.safetensors`, { size: 4095 }))).code).toBe(
        "CHECKPOINT_CORRUPT",
      );
      const stream = await h.store.getStream(`${p}model.safetensors`, { sha256: wrong });
      const read = (async () => {
        for await (const _ of stream) void _;
      })();
      expect((await rejection(read)).code).toBe("CHECKPOINT_CORRUPT");
    });

    it("lists by prefix in key order and deletes", async () => {
      const p = prefix();
      for (const k of ["x/2", "x/1", "y/1", "x10"]) await h.store.putBytes(`${p}${k}`, new Uint8Array([1]));
      expect(await h.store.list(`${p}x/`)).toEqual([`${p}x/1`, `${p}x/2`]);
      expect(await h.store.list(`${p}x`)).toEqual([`${p}x/1`, `${p}x/2`, `${p}x10`]);
      await h.store.delete(`${p}x/1`);
      await h.store.delete(`${p}x/never-existed`);
      expect(await h.store.list(`${p}x/`)).toEqual([`${p}x/2`]);
    });

    it("says STORE_NOT_FOUND for a missing key and maps URIs both ways", async () => {
      const p = prefix();
      const e = await rejection(h.store.getBytes(`${p}nothing`));
      expect(e.code).toBe("STORE_NOT_FOUND");
      expect(e.disposition).toBe("fatal");
      const uri = h.store.uri(`${p}ckpt/`);
      expect(h.store.keyOf(uri)).toBe(`${p}ckpt/`);
      expect(() => h.store.keyOf("s3://some-other-bucket/k")).toThrow(/not in this store/);
      expect(() => h.store.uri("../escape")).toThrow(/not a safe relative key/);
      await expect(h.store.ping()).resolves.toBeUndefined();
    });
  });
}
