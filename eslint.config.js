// Lint rules, including the one-way dependency rule: core/ is pure and imports no adapter.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['fs', 'net', 'http', 'https', 'http2', 'child_process', 'os', 'dgram', 'dns', 'tls', 'process', 'worker_threads', 'cluster', 'readline', 'vm', 'timers'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'test/golden/', 'test/infra/k8s/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', TextEncoder: 'readonly', Buffer: 'readonly', AbortController: 'readonly', fetch: 'readonly', structuredClone: 'readonly', performance: 'readonly', crypto: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: 'error',
    },
  },
  {
    // The pure core: no I/O, no clock, no randomness, no environment, no adapters.
    files: ['core/**/*.ts'],
    ignores: ['core/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': ['error', {
        paths: [
          ...ioModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'core/ does no I/O; do it in an adapter and pass values in.' })),
          { name: 'node:crypto', importNames: ['randomBytes', 'randomUUID', 'randomInt', 'getRandomValues'], message: 'core/ is deterministic.' },
          { name: '@kubernetes/client-node', message: 'core/ takes plain values; the Kubernetes client belongs to adapters.' },
          { name: 'express', message: 'HTTP belongs to adapters.' },
          { name: '@grpc/grpc-js', message: 'gRPC belongs to adapters.' },
        ],
        patterns: [
          { group: ['**/plugin/**', '**/webhook/**', '**/agent/**', '**/bench/**', '**/test/**', '**/scripts/**'], message: 'Dependencies point one way: adapters → core.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'core/ reads no environment; pass configuration in.' },
        { name: 'fetch', message: 'core/ does no I/O.' },
        { name: 'setTimeout', message: 'core/ has no timers.' },
        { name: 'setInterval', message: 'core/ has no timers.' },
        { name: 'crypto', message: 'core/ is deterministic.' },
        { name: 'performance', message: 'core/ reads no clock.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'core/ reads no clock; pass time in.' },
        { object: 'Math', property: 'random', message: 'core/ is deterministic.' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'core/ reads no clock; pass time in.' }],
    },
  },
);
