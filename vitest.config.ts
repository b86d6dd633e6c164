import { defineConfig } from 'vitest/config';

// Two projects, both run by `npm test` (scripts/test.ts):
// - unit: the pure core and the CLI, no servers;
// - integration: real servers. One real kube-apiserver + etcd (+ controller-manager and
//   scheduler) is started once by the global setup and shared; files run one at a time because
//   admission webhooks and PriorityClasses are cluster-wide.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // A hang guard, not a speed check: some unit tests spawn processes (patch, eslint, the
          // CLI) and take several seconds on a loaded 2-core machine.
          testTimeout: 30_000,
          include: ['core/**/*.test.ts', 'adapters/**/*.test.ts', 'scheduler/**/*.test.ts', 'plugin/**/*.test.ts', 'webhook/**/*.test.ts', 'agent/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/*.test.ts'],
          globalSetup: ['test/setup/globalSetup.ts'],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
