// The whole suite, as the README's test command and CI run it: lint, typecheck, install the test
// infrastructure (Kubernetes binaries, scx_layered, the sched_ext kernel) into caches outside the
// repo, then every vitest project. Ends with one line "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
// Toolchains the installers use, where a fresh machine keeps them even if PATH lacks them.
for (const dir of ['/usr/local/go/bin', join(homedir(), '.cargo', 'bin')]) {
  if (existsSync(dir) && !(process.env.PATH ?? '').split(':').includes(dir)) process.env.PATH = `${process.env.PATH ?? ''}:${dir}`;
}
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);

function step(title: string, cmd: string, argv: string[]): number {
  const started = performance.now();
  process.stdout.write(`\n=== ${title}\n`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`=== ${title}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${secs}s\n`);
  return r.status ?? 1;
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
}

let failed = 0;
failed += step('lint (eslint, including the core/ purity and dependency rules)', bin('eslint'), ['.']) === 0 ? 0 : 1;
failed += step('typecheck (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json']) === 0 ? 0 : 1;

// Test infrastructure, installed into caches outside the repo (idempotent; seconds when cached).
failed += step('install: kube-apiserver, etcd, controller-manager, scheduler (Go modules)', process.execPath, [join(root, 'dev', 'controlplane', 'install-k8s.ts')]) === 0 ? 0 : 1;
failed += step('install: kubectl (Go modules) for the plugin\'s single-executable test', process.execPath, [join(root, 'dev', 'controlplane', 'install-k8s.ts'), 'kubectl']) === 0 ? 0 : 1;
failed += step('install: scx_layered (crates.io, clang-22)', 'bash', [join(root, 'bpf', 'install-scx.sh')]) === 0 ? 0 : 1;
failed += step('install: sched_ext test kernel (Debian sid, private apt) and qemu', 'bash', [join(root, 'bpf', 'install-kernel.sh')]) === 0 ? 0 : 1;
failed += step('install: helm (Go modules) for the chart tests', process.execPath, [join(root, 'dev', 'install-helm.ts')]) === 0 ? 0 : 1;
failed += step('install: Chromium (Debian) for the dashboard tests', 'bash', [join(root, 'dev', 'install-chromium.sh')]) === 0 ? 0 : 1;
// With everything installed, the kernel and browser suites must run: missing prerequisites fail, not skip.
process.env.TEMPER_REQUIRE_VM = '1';
process.env.TEMPER_REQUIRE_BROWSER = '1';

const out = mkdtempSync(join(tmpdir(), 'temper-test-'));
function readReport(path: string): VitestJson | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VitestJson;
  } catch {
    return null;
  }
}
/** One vitest run; its report, or null when it wrote none. */
function vitest(title: string, name: string, argv: string[]): { code: number; report: VitestJson | null } {
  const path = join(out, `${name}.json`);
  const code = step(title, bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${path}`, ...argv]);
  return { code, report: readReport(path) };
}
// With arguments (a file filter, --project …), one vitest run with them. Without, every project:
// unit and integration together, then the kernel fence test alone on a quiet host (it compares
// latencies across arms of one VM boot; vitest.config.ts).
const runs = args.length > 0
  ? [vitest('vitest (selected)', 'selected', args)]
  : [
      vitest('vitest (unit + integration projects)', 'main', ['--project', 'unit', '--project', 'integration']),
      vitest('vitest (fence project: the kernel fence test, alone)', 'fence', ['--project', 'fence']),
    ];
rmSync(out, { recursive: true, force: true });
const missing = runs.filter((r) => r.report === null).length;
if (missing > 0) {
  process.stdout.write(`tests: 0 passed, ${missing} failed (vitest wrote no report)\n`);
  process.exit(1);
}
const total = (k: keyof VitestJson): number => runs.reduce((acc, r) => acc + r.report![k], 0);
const code = runs.some((r) => r.code !== 0) ? 1 : 0;
const summary: VitestJson = { numPassedTests: total('numPassedTests'), numFailedTests: total('numFailedTests'), numPendingTests: total('numPendingTests'), numTodoTests: total('numTodoTests'), numTotalTests: total('numTotalTests') };
const skipped = summary.numPendingTests + summary.numTodoTests;
const bad = summary.numFailedTests + failed + (code !== 0 && summary.numFailedTests === 0 ? 1 : 0);
process.stdout.write(`\ntests: ${summary.numPassedTests} passed, ${bad} failed, ${skipped} skipped\n`);
process.exit(bad === 0 && code === 0 && summary.numTotalTests > 0 ? 0 : 1);
