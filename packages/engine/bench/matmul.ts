// onnxruntime's fp32 MatMul ceiling through a session (median of runs), plus GPT-shaped products
// (plain, with a transposed operand as the backward pass uses them) for comparison.
// pnpm exec tsx packages/engine/bench/matmul.ts [--threads N] [--runs N]
import { compileInference, Graph } from "../src/index.ts";

const args = process.argv.slice(2);
const threads = args.includes("--threads") ? Number(args[args.indexOf("--threads") + 1]) : 2;
const runs = args.includes("--runs") ? Number(args[args.indexOf("--runs") + 1]) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** C = A[M,K] @ B[K,N], with A given transposed ([K,M]) when transA (a weight gradient). */
async function bench(label: string, M: number, K: number, N: number, transA = false) {
  const g = new Graph();
  const a = g.input("a", transA ? [K, M] : [M, K]);
  const b = g.input("b", [K, N]);
  const prog = await compileInference({ graph: g, outputs: { c: (transA ? a.mT() : a).matmul(b) }, threads });
  const feeds = {
    a: Float32Array.from({ length: M * K }, (_, i) => (i % 7) / 7),
    b: Float32Array.from({ length: K * N }, (_, i) => (i % 5) / 5),
  };
  await prog.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await prog.run(feeds);
    ms.push(performance.now() - t0);
  }
  const m = median(ms);
  console.log(
    JSON.stringify({
      bench: "matmul",
      label,
      M,
      K,
      N,
      transA,
      threads,
      ms: +m.toFixed(3),
      gflops: +((2 * M * K * N) / m / 1e6).toFixed(1),
    }),
  );
  await prog.dispose();
}

await bench("ceiling 1024^3", 1024, 1024, 1024);
await bench("ceiling 2048^3", 2048, 2048, 2048);
await bench("shakespeare-char fc (B=8)", 2048, 384, 1536);
await bench("shakespeare-char fc dW (B=8)", 384, 2048, 1536, true);
await bench("baby fc", 768, 128, 512);
await bench("baby fc dW", 128, 768, 512, true);
