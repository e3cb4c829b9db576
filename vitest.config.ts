import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (packages/**/x.test.ts); cross-service tests live in tests/.
// Two cores: the heavy suites (real servers, real training) must not all run at once.
export default defineConfig({
  test: {
    include: ["packages/**/src/**/*.test.ts", "tests/**/*.test.ts"],
    // tests/chaos has its own config and command (pnpm test:chaos)
    exclude: ["**/node_modules/**", "tests/chaos/**"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
