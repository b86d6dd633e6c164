// `npm run build:plugin`: kubectl-temper as one executable that needs no Node.js on the PATH
// (Node's single-executable applications), its krew archive and a krew manifest for it.
//
//   1. bundle plugin/sea-entry.ts and its dependencies into one CommonJS file (rolldown);
//   2. `node --experimental-sea-config` turns it into a preparation blob;
//   3. a copy of this Node binary (the pinned Node 24) gets the blob injected (postject);
//   4. dist/kubectl-temper-<os>-<arch>.tar.gz holds it, and dist/krew/temper.yaml names the
//      archive with its sha256 (`kubectl krew install --manifest=… --archive=…`).
//
// Only the platform it runs on is built: the executable is this machine's Node binary.
// Flags: --out DIR (default dist), --uri URL (where the archive will be downloaded from; default
// its local file:// URL).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { inject } from 'postject';
import { build } from 'rolldown';
import { stringify } from 'yaml';

/** The fuse Node's SEA support looks for (documented in Node's single-executable-applications guide). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const repo = resolve(import.meta.dirname, '..');

/** krew's names for this machine's platform. */
function platform(): { os: string; arch: string } {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
  if (arch === undefined || !['linux', 'darwin'].includes(process.platform)) throw new Error(`unsupported platform ${process.platform}/${process.arch}`);
  return { os: process.platform, arch };
}

/** The krew plugin manifest (krew.sigs.k8s.io/v1alpha2 Plugin) for one platform's archive. */
export function krewManifest(version: string, os: string, arch: string, uri: string, sha256: string, homepage?: string): Record<string, unknown> {
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: 'temper' },
    spec: {
      version: `v${version}`,
      ...(homepage === undefined ? {} : { homepage }),
      shortDescription: 'Show each pod\'s Temper QoS tier and scx_layered layer',
      description: 'kubectl temper shows the CPU QoS tier Temper gives each pod (from its PriorityClass and QoS class), '
        + 'the scx_layered layer it lands in and why, offline from manifests or live from the cluster, '
        + 'and the exact scheduler config a node runs.',
      platforms: [{
        selector: { matchLabels: { os, arch } },
        uri,
        sha256,
        files: [{ from: 'kubectl-temper', to: '.' }],
        bin: 'kubectl-temper',
      }],
    },
  };
}

export interface BuiltPlugin {
  readonly executable: string;
  readonly archive: string;
  readonly manifest: string;
  readonly sha256: string;
  /** Milliseconds per step: bundle, blob, inject, archive. */
  readonly timings: Record<string, number>;
}

/** Builds the executable, its archive and its krew manifest into `outDir`. */
export async function buildPlugin(outDir: string, uri?: string): Promise<BuiltPlugin> {
  const timings: Record<string, number> = {};
  let t = Date.now();
  const lap = (name: string): void => { timings[name] = Date.now() - t; t = Date.now(); };
  const { os, arch } = platform();
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; homepage?: string };
  const work = join(outDir, 'sea');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const bundle = join(work, 'kubectl-temper.cjs');
  await build({
    input: join(repo, 'plugin/sea-entry.ts'),
    platform: 'node',
    // The userland punycode, as in node_modules: the builtin warns (DEP0040) outside node_modules.
    resolve: { alias: { punycode: join(repo, 'node_modules/punycode/punycode.js') } },
    output: { file: bundle, format: 'cjs', codeSplitting: false },
    logLevel: 'warn',
  });
  lap('bundle');

  const blob = join(work, 'sea-prep.blob');
  const config = join(work, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  lap('blob');

  const executable = join(outDir, 'kubectl-temper');
  rmSync(executable, { force: true });
  copyFileSync(process.execPath, executable);
  chmodSync(executable, 0o755);
  await inject(executable, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE, ...(os === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {}) });
  lap('inject');

  const archive = join(outDir, `kubectl-temper-${os}-${arch}.tar.gz`);
  execFileSync('tar', ['-czf', archive, '-C', outDir, 'kubectl-temper']);
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  const manifest = join(outDir, 'krew', 'temper.yaml');
  mkdirSync(join(outDir, 'krew'), { recursive: true });
  // Without a release URL the manifest points at the local archive (krew install --archive uses it anyway).
  writeFileSync(manifest, stringify(krewManifest(pkg.version, os, arch, uri ?? pathToFileURL(archive).href, sha256, pkg.homepage)));
  lap('archive');
  return { executable, archive, manifest, sha256, timings };
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(repo, 'dist') }, uri: { type: 'string' } } });
  try {
    const built = await buildPlugin(resolve(values.out), values.uri);
    process.stdout.write(`${built.executable}\n${built.archive} (sha256 ${built.sha256})\n${built.manifest}\n`);
    process.stderr.write(`build-plugin: ${Object.entries(built.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(', ')}\n`);
  } catch (err) {
    process.stderr.write(`build-plugin: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
