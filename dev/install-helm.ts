// Builds helm (v3) from its Go module (no binary downloads) into a per-version cache outside the
// repo: ${TEMPER_CACHE:-$HOME/.cache/temper}/helm/<version>/helm. The version is the one the
// pinned go.mod under dev/helm/ requires (helm is a `tool` directive of that module, kept
// apart from the Kubernetes module so neither moves the other's dependencies), so bumping helm is
// a go.mod edit. Idempotent: skips the build when the binary and a matching stamp exist.
//
//   node dev/install-helm.ts                 # build if needed, print the binary's path
//
// Cost on the 2-core machine, helm v3.22.0: 2 min 44 s cold (empty Go module and build caches,
// modules fetched from the proxy), 3 min 36 s when the machine was busy with other builds; 0.1 s
// when cached.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export class HelmInstallError extends Error {
  override name = 'HelmInstallError';
}

const moduleDir = fileURLToPath(new URL('./helm/', import.meta.url));
const helmPackage = 'helm.sh/helm/v3/cmd/helm';

function log(msg: string): void {
  process.stderr.write(`[install-helm] ${msg}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

/** The version dev/helm/go.mod requires for `modulePath`. */
async function pinnedVersion(modulePath: string): Promise<string> {
  const gomod = await readFile(join(moduleDir, 'go.mod'), 'utf8');
  const line = gomod.split('\n').find((l) => l.trim().startsWith(`${modulePath} v`));
  const version = line?.trim().split(/\s+/)[1];
  if (!version) throw new HelmInstallError(`${moduleDir}go.mod: no require line for ${modulePath}`);
  return version;
}

/**
 * The flags helm's own Makefile sets: the version `helm version` prints, and the Kubernetes
 * version (client-go's minor, major 1) that `helm template`/`lint` assume for .Capabilities when
 * no cluster is asked.
 */
async function ldflags(helm: string): Promise<string> {
  const clientGo = await pinnedVersion('k8s.io/client-go');
  const minor = clientGo.replace(/^v0\./, '').split('.')[0];
  return [
    '-s -w',
    `-X helm.sh/helm/v3/internal/version.version=${helm}`,
    '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
    '-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1',
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
    '-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1',
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
  ].join(' ');
}

function runGo(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // A static binary, as upstream ships it; never fetch another Go toolchain.
    const child = spawn('go', args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' } });
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(new HelmInstallError(err.code === 'ENOENT' ? 'the `go` command was not found on PATH; Go >= 1.26 is needed to build helm' : `go ${args.join(' ')}: ${err.message}`)),
    );
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new HelmInstallError(`go ${args.join(' ')} (in ${cwd}) failed: ${signal ?? `exit ${code}`}`)),
    );
  });
}

/** Returns the absolute path of the pinned helm binary, building it first if it is not cached. */
export async function ensureHelm(): Promise<string> {
  const started = Date.now();
  const version = await pinnedVersion('helm.sh/helm/v3');
  const flags = await ldflags(version);
  const cacheRoot = process.env.TEMPER_CACHE || join(homedir(), '.cache', 'temper');
  const dir = join(cacheRoot, 'helm', version);
  const bin = join(dir, 'helm');
  const stampPath = join(dir, 'STAMP');
  // Identity of a build: the exact dependency set and the flags.
  const hash = createHash('sha256');
  hash.update(await readFile(join(moduleDir, 'go.mod')));
  hash.update(await readFile(join(moduleDir, 'go.sum')));
  hash.update(flags);
  const stamp = `helm ${version}\ninputs sha256:${hash.digest('hex')}\n`;

  const cached = existsSync(stampPath) ? await readFile(stampPath, 'utf8') : '';
  if (cached === stamp && existsSync(bin)) {
    log(`helm ${version} is cached in ${dir} (${seconds(started)})`);
    return bin;
  }
  log(`building helm ${version} into ${dir} (a cold build takes a few minutes; Go's build cache makes rebuilds fast)`);
  await mkdir(dir, { recursive: true });
  await rm(stampPath, { force: true });
  // Build privately and rename into place, so a concurrent reader never sees a half-written binary.
  const staging = join(dir, `.build-${process.pid}`);
  const heartbeat = setInterval(() => log(`  ...still building helm (${seconds(started)})`), 60_000);
  try {
    await runGo(['build', '-mod=readonly', '-trimpath', `-ldflags=${flags}`, '-o', staging, helmPackage], moduleDir);
    await rename(staging, bin);
    await writeFile(stampPath, stamp);
  } finally {
    clearInterval(heartbeat);
    await rm(staging, { force: true });
  }
  log(`built helm ${version} in ${seconds(started)}`);
  return bin;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(`${await ensureHelm()}\n`);
  } catch (err) {
    process.stderr.write(`install-helm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
