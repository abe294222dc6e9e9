import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration and e2e tests share a small machine (2 cores): files run one at a time
    // so that real servers started by one file never compete with another's.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 900_000,
    globalSetup: ["test/env/global-teardown.ts"],
  },
});
