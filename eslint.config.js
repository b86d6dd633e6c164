// Lint rules, including the shape of the house (docs/architecture.md): core/ is pure and imports
// nothing else of Temper; adapters/ imports core/ only; each program (agent/, webhook/, plugin/,
// scheduler/) imports core/ and adapters/, never another program; no production code imports the
// development and test folders. test/unit/boundary.test.ts proves each rule bites.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['fs', 'net', 'http', 'https', 'http2', 'child_process', 'os', 'dgram', 'dns', 'tls', 'process', 'worker_threads', 'cluster', 'readline', 'vm', 'timers'];

/** The programs: each is one deployable (or the CLI) and owns its folder. */
const PROGRAMS = ['agent', 'webhook', 'plugin', 'scheduler'];
/** Folders for development and tests only: the local control plane, harnesses, benchmarks, scripts. */
const NOT_PRODUCTION = ['test', 'dev', 'bench', 'scripts', 'bpf'];
/** Production code: the core, the shared adapters and the programs, without their tests. */
const TESTS = ['**/*.test.ts'];

const folders = (names) => names.map((n) => `**/${n}/**`);
const notProduction = {
  group: folders(NOT_PRODUCTION),
  message: `production code (core/, adapters/, programs) never imports ${NOT_PRODUCTION.map((n) => `${n}/`).join(', ')}: those are for development and tests.`,
};
const noImportsOf = (names, message) => ({ group: folders(names), message });

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'test/golden/', 'dev/controlplane/k8s/', 'dev/helm/'] },
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
    ignores: TESTS,
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
          noImportsOf(['adapters', ...PROGRAMS, ...NOT_PRODUCTION], 'Dependencies point one way: adapters → core; core/ imports nothing else of Temper.'),
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
  {
    // Shared adapter code: used by every program, so it depends on none of them.
    files: ['adapters/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          noImportsOf(PROGRAMS, `adapters/ is shared by every program and imports core/ only, never a program (${PROGRAMS.map((p) => `${p}/`).join(', ')}).`),
          notProduction,
        ],
      }],
    },
  },
  // Each program imports core/ and adapters/, never another program's folder.
  ...PROGRAMS.map((program) => ({
    files: [`${program}/**/*.ts`],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          noImportsOf(PROGRAMS.filter((p) => p !== program), `${program}/ is a program: it imports core/ and adapters/, never another program's folder; move shared code to adapters/ (or core/ when pure).`),
          notProduction,
        ],
      }],
    },
  })),
);
