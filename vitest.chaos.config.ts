import { defineConfig } from "vitest/config";

// The chaos suite (`pnpm test:chaos`, run by .ci/run after the main tests): one file, one relay of
// real processes, scenarios in order. Apart from `pnpm test` so the unit and relay tests stay fast.
export default defineConfig({
  test: {
    include: ["tests/chaos/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 180_000,
  },
});
