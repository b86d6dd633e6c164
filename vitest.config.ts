import { defineConfig } from 'vitest/config';

// Three projects, all run by `npm test` (scripts/test.ts):
// - unit: the pure core and the CLI, no servers;
// - integration: real servers. One real kube-apiserver + etcd (+ controller-manager and
//   scheduler) is started once by the global setup and shared; files run one at a time because
//   admission webhooks and PriorityClasses are cluster-wide;
// - fence: the kernel fence test (test/fence-vm.test.ts), which compares wake-up latencies under
//   scx_layered and the default scheduler in one VM boot. scripts/test.ts runs it after the other
//   two have finished, so the host's own load (the unit files, the shared control plane) does not
//   change between its arms.
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
          exclude: ['test/fence-vm.test.ts'],
          globalSetup: ['test/setup/globalSetup.ts'],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'fence',
          include: ['test/fence-vm.test.ts'],
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
    ],
  },
});
