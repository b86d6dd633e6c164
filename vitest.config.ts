import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure core and CLI, no servers) and `integration` (real servers, added
// with their global setup). scripts/test.ts runs them all.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['core/**/*.test.ts', 'plugin/**/*.test.ts', 'webhook/**/*.test.ts', 'agent/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
    ],
  },
});
