// `kubectl temper` as users install it: the single executable (scripts/build-plugin.ts) on a
// PATH with no Node.js, run by a real kubectl (built from Go modules at the control plane's
// version), offline, from a pipe and against the real control plane; and its krew manifest.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureKubectl } from '../dev/controlplane/install-k8s.ts';
import { buildPlugin, type BuiltPlugin } from '../scripts/build-plugin.ts';

const repo = join(import.meta.dirname, '..');
const PODS = join(repo, 'manifests/examples/pods.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'temper-sea-'));
const binDir = join(tmp, 'bin');
let kubectl = '';
let built: BuiltPlugin;

beforeAll(async () => {
  kubectl = await ensureKubectl(); // cached; minutes when cold
  const started = Date.now();
  built = await buildPlugin(join(tmp, 'dist'));
  process.stderr.write(`[plugin-sea] built the single executable in ${((Date.now() - started) / 1000).toFixed(1)}s (${JSON.stringify(built.timings)})\n`);
  mkdirSync(binDir);
  copyFileSync(built.executable, join(binDir, 'kubectl-temper'));
}, 900_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run { code: number; out: string; err: string }

/** Runs the real kubectl with only the plugin's directory on PATH: no node, no npx. */
function kubectlRun(args: string[], opts: { env?: Record<string, string>; stdinFile?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { PATH: binDir, HOME: join(tmp, 'home'), ...opts.env };
    const child = spawn(kubectl, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    if (opts.stdinFile === undefined) child.stdin.end();
    else child.stdin.end(readFileSync(opts.stdinFile));
  });
}

describe('the single executable through a real kubectl', () => {
  it('kubectl finds the plugin on a PATH that holds nothing else (no Node.js)', async () => {
    const r = await kubectlRun(['plugin', 'list']);
    expect(r.out).toContain(join(binDir, 'kubectl-temper'));
    expect(readdirSync(binDir)).toEqual(['kubectl-temper']);
    expect(readFileSync(join(binDir, 'kubectl-temper')).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // an ELF executable, not a script
  });

  it('kubectl temper --version', async () => {
    const r = await kubectlRun(['temper', '--version']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`kubectl-temper ${(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('kubectl temper tiers --from-file FILE and --from-file - (a pipe)', async () => {
    const file = await kubectlRun(['temper', 'tiers', '--from-file', PODS, '-o', 'json']);
    expect(file.err).toBe('');
    expect(JSON.parse(file.out)).toHaveLength(10);
    const piped = await kubectlRun(['temper', 'tiers', '--from-file', '-', '-o', 'json'], { stdinFile: PODS });
    expect(piped.err).toBe('');
    expect(piped.out).toBe(file.out);
  });

  it('kubectl temper tiers -A against the real control plane', async () => {
    const r = await kubectlRun(['temper', 'tiers', '-A', '-o', 'json'], { env: { KUBECONFIG: inject('kubeconfig') } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(Array.isArray(JSON.parse(r.out))).toBe(true);
  });

  it('errors keep the CLI\'s contract: one line, exit 1, no stack trace', async () => {
    const r = await kubectlRun(['temper', 'tiers', '-A']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: no kubeconfig found (set KUBECONFIG or --kubeconfig)\n');
  });
});

describe('the krew manifest', () => {
  it('names the archive by its sha256, and the archive holds the bin it names', async () => {
    const manifest = parse(readFileSync(built.manifest, 'utf8')) as {
      apiVersion: string; kind: string; metadata: { name: string };
      spec: { version: string; shortDescription: string; platforms: { selector: { matchLabels: Record<string, string> }; uri: string; sha256: string; files: { from: string; to: string }[]; bin: string }[] };
    };
    expect(manifest).toMatchObject({ apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: { name: 'temper' } });
    expect(manifest.spec.version).toMatch(/^v\d+\.\d+\.\d+$/);
    const [p] = manifest.spec.platforms;
    expect(p?.selector.matchLabels).toEqual({ os: 'linux', arch: process.arch === 'x64' ? 'amd64' : process.arch });
    expect(p?.sha256).toBe(createHash('sha256').update(readFileSync(built.archive)).digest('hex'));
    const listing = await new Promise<string>((resolve, reject) => {
      const tar = spawn('tar', ['-tzf', built.archive]);
      let out = '';
      tar.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      tar.on('error', reject);
      tar.on('close', () => resolve(out));
    });
    expect(listing.trim().split('\n')).toEqual([p?.bin]);
    expect(p?.files).toEqual([{ from: 'kubectl-temper', to: '.' }]);
  });
});
