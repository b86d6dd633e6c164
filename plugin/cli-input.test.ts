// The inputs users really have (issue 14): workloads from `helm template`, YAML as kubectl reads
// it, hostile or empty input, and kubectl's habits. Each case: the exit code, one clear line on
// stderr, and never a stack trace.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './cli.ts';
import { MAX_DEPTH, MAX_INPUT_BYTES } from './manifests.ts';

const repo = join(import.meta.dirname, '..');
const PODS = join(repo, 'manifests/examples/pods.yaml');
const NODE = join(repo, 'manifests/examples/node.yaml');
const BIN = join(repo, 'plugin/kubectl-temper.ts');
const tmp = mkdtempSync(join(tmpdir(), 'temper-cli-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

interface Run { code: number; out: string; err: string }

async function run(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

/** The error contract: exit code, exactly one line on stderr containing `message`, nothing on stdout, no stack. */
function expectOneLineError(r: Run, code: number, message: string): void {
  expect(r.code).toBe(code);
  expect(r.out).toBe('');
  expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
  expect(r.err).toContain(message);
  expect(r.err).not.toMatch(/^\s+at /m);
}

type Row = Record<string, unknown>;
const rowsOf = (r: Run): Row[] => JSON.parse(r.out) as Row[];

const podYaml = (name: string, extra = ''): string =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: shop, uid: 00000000-0000-4000-8000-00000000000${name.length % 10}, labels: {app: ${name}}}\nspec:\n  nodeName: worker-1\n${extra}  containers: [{name: c, resources: {requests: {cpu: 500m}}}]\n`;

describe('workloads through their pod templates (helm template | kubectl temper tiers --from-file -)', () => {
  const template = (extra = ''): string => `    metadata: {labels: {app: x}}\n    spec:\n${extra}      containers: [{name: c, resources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "1", memory: 1Gi}}}]\n`;
  const stream = [
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n${template('      priorityClassName: infera-high\n')}`,
    `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec:\n  template:\n${template('      priorityClassName: infera-critical\n')}`,
    `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: logs, namespace: ops}\nspec:\n  template:\n${template('      priorityClassName: system-node-critical\n')}`,
    `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-5d8f, namespace: shop}\nspec:\n  template:\n${template()}`,
    `apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: shop}\nspec:\n  template:\n${template('      priorityClassName: infera-low\n')}`,
    `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report, namespace: analytics}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          priorityClassName: infera-background\n          containers: [{name: c}]\n`,
    'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n',
  ].join('---\n');

  it('one row per workload, named after it; Temper\'s class names resolve from the policy; other kinds skipped', async () => {
    const r = await run('tiers', '--from-file', file('workloads.yaml', stream), '-o', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const byName = Object.fromEntries(rowsOf(r).map((x) => [x.name, x]));
    expect(Object.keys(byName).sort()).toEqual(['db', 'logs', 'migrate', 'report', 'web', 'web-5d8f']);
    expect(byName.web).toMatchObject({ namespace: 'shop', tier: 'high', priority: 100000, uid: '' });
    expect(byName.db).toMatchObject({ tier: 'critical', priority: 1000000, qosClass: 'Guaranteed' });
    expect(byName.logs).toMatchObject({ namespace: 'ops', tier: 'system' });
    expect(byName['web-5d8f']).toMatchObject({ tier: 'normal', reason: expect.stringContaining('QoS class Guaranteed (computed from the containers\' resources) defaults to normal') });
    expect(byName.migrate).toMatchObject({ tier: 'low' });
    expect(byName.report).toMatchObject({ namespace: 'analytics', tier: 'background', qosClass: 'BestEffort' });
  });

  it('the table names each row by its kind, as kubectl does for more than one kind; -o name too', async () => {
    const path = file('workloads-and-pod.yaml', `${stream}---\n${podYaml('solo')}`);
    const table = await run('tiers', '--from-file', path);
    expect(table.out).toMatch(/^shop\s+deployment\.apps\/web\s+high\s/m);
    expect(table.out).toMatch(/^analytics\s+cronjob\.batch\/report\s+background\s/m);
    expect(table.out).toMatch(/^shop\s+pod\/solo\s/m);
    const names = await run('tiers', '--from-file', path, '-o', 'name');
    expect(names.out.split('\n')).toEqual(expect.arrayContaining(['deployment.apps/web', 'statefulset.apps/db', 'daemonset.apps/logs', 'replicaset.apps/web-5d8f', 'job.batch/migrate', 'cronjob.batch/report', 'pod/solo']));
  });

  it('a workload without a pod template names the field', async () => {
    const r = await run('tiers', '--from-file', file('no-template.yaml', 'kind: Deployment\nmetadata: {name: web}\nspec: {}\n'));
    expectOneLineError(r, 1, 'no-template.yaml (Deployment web): spec.template: required (the pod template)');
  });

  it('render and distribution leave workloads out and say so', async () => {
    const r = await run('distribution', '--node', NODE, '--pods', file('mixed.yaml', `${stream}---\n${podYaml('solo')}`));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ normal: { pods: 1, cpuMillis: 500 } });
    expect(r.err).toContain('6 workload template(s) are not pods on a node, left out');
  });
});

describe('YAML as kubectl reads it', () => {
  it('merge keys (<<: *base) are honoured', async () => {
    const same = 'kind: List\nitems:\n- kind: Pod\n  metadata: {name: base, namespace: m}\n  spec:\n    containers:\n    - &base {name: b, resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: 250m, memory: 64Mi}}}\n- kind: Pod\n  metadata: {name: merged, namespace: m}\n  spec:\n    containers:\n    - <<: *base\n      name: c\n';
    const ok = await run('tiers', '--from-file', file('merge-ok.yaml', same), '-o', 'json');
    expect(ok.err).toBe('');
    expect(rowsOf(ok).find((x) => x.name === 'merged')).toMatchObject({ qosClass: 'Guaranteed' });
  });

  const bomCases: [string, Uint8Array][] = [
    ['UTF-8 YAML', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(podYaml('bom'))])],
    ['UTF-8 JSON', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ kind: 'Pod', metadata: { name: 'bom' }, spec: { containers: [{ name: 'c' }] } }))])],
    ['UTF-16LE YAML', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(podYaml('bom'), 'utf16le')])],
    ['UTF-16BE JSON', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(JSON.stringify({ kind: 'Pod', metadata: { name: 'bom' }, spec: { containers: [{ name: 'c' }] } }), 'utf16le').swap16()])],
  ];
  it.each(bomCases)('a byte-order mark is accepted: %s', async (_what, bytes) => {
    const r = await run('tiers', '--from-file', file('bom', bytes), '-o', 'name');
    expect(r.err).toBe('');
    expect(r.out).toBe('pod/bom\n');
  });

  it('an alias bomb is refused with one line', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expectOneLineError(await run('tiers', '--from-file', file('bomb.yaml', `${bomb.join('\n')}\n`)), 1, 'bomb.yaml: refused: YAML aliases expand more than 100 times (an alias bomb?)');
  });

  it.each([
    ['JSON', `${'['.repeat(200_000)}${']'.repeat(200_000)}`],
    ['JSON, within the stack', `${'{"a":'.repeat(MAX_DEPTH + 5)}1${'}'.repeat(MAX_DEPTH + 5)}`],
    ['YAML flow', `x: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`],
    ['YAML block', `${Array.from({ length: MAX_DEPTH + 5 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`],
  ])('absurd nesting is refused with one line: %s', async (_what, text) => {
    expectOneLineError(await run('tiers', '--from-file', file('deep', text)), 1, `deep: refused: nested more than ${MAX_DEPTH} levels deep`);
  });

  it.each([['nothing', ''], ['whitespace', '\n \n'], ['only comments and separators', '# nothing here\n---\n---\n']])('empty input says so: %s', async (_what, text) => {
    expectOneLineError(await run('tiers', '--from-file', file('empty.yaml', text)), 1, 'empty.yaml: empty input: no objects (expected pods, e.g. kubectl get pods -A -o yaml)');
  });

  it('a file over the limit is refused before it is read (a sparse file: nothing to read)', async () => {
    const big = file('big.yaml', '');
    truncateSync(big, MAX_INPUT_BYTES + 1);
    expectOneLineError(await run('tiers', '--from-file', big), 1, 'big.yaml: manifest file is 65 MiB, larger than the 64 MiB limit; refused before reading it');
  });

  it('duplicate pods are reported and counted once', async () => {
    const r = await run('distribution', '--node', NODE, '--pods', file('dup.yaml', `${podYaml('twice')}---\n${podYaml('twice')}`));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ normal: { pods: 1, cpuMillis: 500 } });
    expect(r.err).toBe(`warning: ${join(tmp, 'dup.yaml')}: pod shop/twice appears 2 times; counted once (the first)\n`);
    expect(rowsOf(await run('tiers', '--from-file', join(tmp, 'dup.yaml'), '-o', 'json'))).toHaveLength(1);
  });

  it('render and distribution report pods without spec.nodeName', async () => {
    const unscheduled = podYaml('pending').replace('  nodeName: worker-1\n', '');
    const path = file('pending.yaml', `${podYaml('placed')}---\n${unscheduled}`);
    for (const cmd of ['render', 'distribution']) {
      const r = await run(cmd, '--node', NODE, '--pods', path);
      expect(r.code).toBe(0);
      expect(r.err).toBe(`warning: ${path}: 1 pod(s) without spec.nodeName (not scheduled) are not on node worker-1, left out: shop/pending\n`);
    }
  });

  it('tiers --node with a file path says what it expects', async () => {
    expectOneLineError(await run('tiers', '--from-file', PODS, '--node', NODE), 2, 'tiers --node takes a node name (e.g. worker-1), not a file');
    expectOneLineError(await run('tiers', '--from-file', PODS, '--node', 'node.yaml'), 2, 'a Node manifest goes to render/distribution --node FILE');
  });
});

describe('kubectl habits', () => {
  it('--version', async () => {
    const r = await run('--version');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^kubectl-temper \d+\.\d+\.\d+\n$/);
  });
  it('--no-headers drops only the header', async () => {
    const withHeader = await run('tiers', '--from-file', PODS);
    const without = await run('tiers', '--from-file', PODS, '--no-headers');
    expect(without.out).toBe(withHeader.out.slice(withHeader.out.indexOf('\n') + 1));
    expect(without.out).not.toContain('NAMESPACE');
  });
  it('-l/--selector: equality, inequality, sets and existence', async () => {
    const labelled = file('labelled.yaml', ['web', 'db', 'cache', 'batch'].map((n, i) => podYaml(n).replace(`labels: {app: ${n}}`, i === 3 ? 'labels: {}' : `labels: {app: ${n}, env: ${i === 0 ? 'prod' : 'dev'}}`)).join('---\n'));
    const names = async (...sel: string[]): Promise<string[]> => rowsOf(await run('tiers', '--from-file', labelled, '-o', 'json', ...sel)).map((x) => String(x.name));
    expect(await names('-l', 'app=web')).toEqual(['web']);
    expect(await names('--selector', 'app!=web')).toEqual(['batch', 'cache', 'db']);
    expect(await names('-l', 'app in (db, cache),env=dev')).toEqual(['cache', 'db']);
    expect(await names('-l', 'app notin (db)')).toEqual(['batch', 'cache', 'web']);
    expect(await names('-l', '!app')).toEqual(['batch']);
    expect(await names('-l', 'env')).toEqual(['cache', 'db', 'web']);
    expectOneLineError(await run('tiers', '--from-file', labelled, '-l', 'app=(x'), 2, 'invalid label selector requirement "app=(x"');
  });
  it('-o name prints pod/NAME', async () => {
    const r = await run('tiers', '--from-file', PODS, '-n', 'analytics', '-o', 'name');
    expect(r.out).toBe('pod/log-compactor-8k2lm\npod/nightly-report-29xyz\n');
  });
});

/** Runs a program as a process; `stdin` is a file descriptor to hand it, else nothing. */
function runProcess(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: options.env ?? process.env, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('as processes', () => {
  it('--from-file - reads a slow, non-blocking pipe to its end (readFileSync(0) failed with EAGAIN)', async () => {
    const fifo = join(tmp, 'slow.fifo');
    execFileSync('mkfifo', [fifo]);
    // The reader's end is non-blocking, as a pipe often is when kubectl or a shell set it up;
    // O_NONBLOCK lives on the open file, which the CLI inherits as its stdin.
    const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const cli = runProcess([BIN, 'tiers', '--from-file', '-', '-o', 'json'], { stdin: readEnd });
    // A slow writer: 256 KiB of comments (more than the pipe holds, so its write returns only once
    // the CLI is reading), a pause with the pipe empty, then the pods.
    const writer = runProcess(['-e', `
      const fs = require('node:fs');
      const fd = fs.openSync(${JSON.stringify(fifo)}, 'w');
      fs.writeSync(fd, '# padding\\n'.repeat(26_000));
      setTimeout(() => { fs.writeSync(fd, fs.readFileSync(${JSON.stringify(PODS)})); fs.closeSync(fd); }, 1500);
    `]);
    closeSync(readEnd);
    const [r, w] = await Promise.all([cli, writer]);
    expect(w.code, w.err).toBe(0);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toHaveLength(10);
  }, 60_000);

  it('a live command with no kubeconfig says so, not a TLS or connection message', async () => {
    const home = mkdtempSync(join(tmp, 'home-'));
    const { KUBECONFIG: _k, KUBERNETES_SERVICE_HOST: _h, ...env } = process.env;
    const r = await runProcess([BIN, 'tiers', '-A'], { env: { ...env, HOME: home } });
    expectOneLineError(r, 1, 'error: no kubeconfig found (set KUBECONFIG or --kubeconfig)');
  }, 60_000);

  it('absurd nesting through stdin: one line, no stack trace', async () => {
    const deep = file('deep-stdin.json', `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`);
    const fd = openSync(deep, 'r');
    const r = await runProcess([BIN, 'tiers', '--from-file', '-'], { stdin: fd });
    closeSync(fd);
    expectOneLineError(r, 1, `error: stdin: refused: nested more than ${MAX_DEPTH} levels deep`);
  }, 60_000);

  it.each([['webhook/main.ts', 'temper-webhook'], ['agent/main.ts', 'temper-agent']])('%s --help prints usage; a bad flag is one line', async (main, name) => {
    const help = await runProcess([join(repo, main), '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(new RegExp(`^Usage: ${name} \\[flags\\]`));
    expect(help.out).toContain('--kubeconfig <file>');
    expect(help.err).toBe('');
    const bad = await runProcess([join(repo, main), '--frobnicate']);
    expectOneLineError(bad, 2, `${name}: Unknown option '--frobnicate'; see ${name} --help`);
  }, 60_000);
});
