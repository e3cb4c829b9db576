// Transfer benchmark: a 256 MiB checkpoint file through Baton's store (S3Store: streaming multipart,
// sha256 on every read and write) vs a bare AWS SDK Upload / GetObject of the same bytes to the
// same server. Target: store throughput >= 0.9 x bare, both ways (median of RUNS runs).
//   pnpm exec tsx tests/bench/transfer.ts          (RUNS=5 SIZE_MIB=256 by default)
// The S3 server comes from the test services: S3_ENDPOINT, else a MinIO container, else local s3rver.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stageEnv } from "@baton/runner";
import { BareS3, startTestServices } from "@baton/testing";
import { machine, median } from "./stats.ts";

const RUNS = Number(process.env["RUNS"] ?? 5);
const SIZE_MIB = Number(process.env["SIZE_MIB"] ?? 256);
const MiB = 1024 * 1024;

const services = await startTestServices();
const env = await stageEnv({ ...process.env, ...services.env });
const dir = await mkdtemp(join(tmpdir(), "baton-transfer-"));
const bare = new BareS3(services.s3);
try {
  const source = join(dir, "model.safetensors");
  await writeRandomFile(source, SIZE_MIB * MiB);
  const bytes = (await stat(source)).size;
  console.log(`transfer: ${SIZE_MIB} MiB x ${RUNS} runs against ${services.s3.source} S3 at ${services.s3.endpoint}`);

  const rates = {
    storeUp: [] as number[],
    bareUp: [] as number[],
    storeDown: [] as number[],
    bareDown: [] as number[],
  };
  for (let run = 0; run < RUNS; run++) {
    const storeKey = `bench/transfer/${run}/store.bin`;
    const bareKey = `bench/transfer/${run}/bare.bin`;
    // Alternate which goes first, so neither always meets a warmer (or fuller) server.
    const order = run % 2 === 0 ? (["store", "bare"] as const) : (["bare", "store"] as const);
    for (const who of order) {
      if (who === "store") rates.storeUp.push(await timed(bytes, () => env.store.putFile(storeKey, source)));
      else rates.bareUp.push(await timed(bytes, () => bare.upload(bareKey, source)));
    }
    for (const who of order) {
      const target = join(dir, `${who}-${run}.bin`);
      if (who === "store") rates.storeDown.push(await timed(bytes, () => env.store.getFile(storeKey, target)));
      else rates.bareDown.push(await timed(bytes, () => bare.download(bareKey, target)));
      await rm(target, { force: true });
    }
    await env.store.delete(storeKey);
    await env.store.delete(bareKey);
    console.log(
      `run ${run + 1}: upload store ${rates.storeUp.at(-1)!.toFixed(0)} / bare ${rates.bareUp.at(-1)!.toFixed(0)} MiB/s; ` +
        `download store ${rates.storeDown.at(-1)!.toFixed(0)} / bare ${rates.bareDown.at(-1)!.toFixed(0)} MiB/s`,
    );
  }

  const up = median(rates.storeUp) / median(rates.bareUp);
  const down = median(rates.storeDown) / median(rates.bareDown);
  // Each run measures both paths back to back, so a per-run ratio cancels most of a shared machine's drift.
  const paired = (a: number[], b: number[]) => median(a.map((v, i) => v / b[i]!));
  const pairedUp = paired(rates.storeUp, rates.bareUp);
  const pairedDown = paired(rates.storeDown, rates.bareDown);
  const verdict = (r: number) => (r >= 0.9 ? "meets >= 0.9" : "MISSES 0.9");
  console.log(`machine: ${await machine()}`);
  console.log(
    `upload:   store ${median(rates.storeUp).toFixed(1)} MiB/s, bare ${median(rates.bareUp).toFixed(1)} MiB/s, ratio of medians ${up.toFixed(3)} (${verdict(up)}), median per-run ratio ${pairedUp.toFixed(3)}`,
  );
  console.log(
    `download: store ${median(rates.storeDown).toFixed(1)} MiB/s, bare ${median(rates.bareDown).toFixed(1)} MiB/s, ratio of medians ${down.toFixed(3)} (${verdict(down)}), median per-run ratio ${pairedDown.toFixed(3)}`,
  );
  console.log(`load average (1 min) at the end: ${(await import("node:os")).loadavg()[0]!.toFixed(1)}`);
  console.log(
    JSON.stringify({
      bench: "transfer",
      sizeMiB: SIZE_MIB,
      runs: RUNS,
      rates,
      ratio: { upload: up, download: down },
      pairedRatio: { upload: pairedUp, download: pairedDown },
    }),
  );
  process.exitCode = up >= 0.9 && down >= 0.9 ? 0 : 1;
} finally {
  bare.close();
  await env.close();
  await services.close();
  await rm(dir, { recursive: true, force: true });
}

/** Throughput in MiB/s of one transfer of `bytes`. */
async function timed(bytes: number, transfer: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await transfer();
  return bytes / MiB / ((performance.now() - start) / 1000);
}

/** Writes `size` random bytes (incompressible, like trained weights) in 4 MiB blocks. */
async function writeRandomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += 4 * MiB) {
    if (!out.write(randomBytes(Math.min(4 * MiB, size - written)))) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}
