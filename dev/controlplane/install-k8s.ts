// Builds kube-apiserver, kube-controller-manager, kube-scheduler and etcd from Go modules (no
// binary downloads) into a per-version cache outside the repo:
// ${TEMPER_CACHE:-$HOME/.cache/temper}/k8s/<k8s-version>-<etcd-version>/.
// The versions come from the pinned go.mod files under dev/controlplane/k8s/ (the three Kubernetes
// binaries are `tool` directives of the one apiserver module), so bumping a version is a go.mod
// edit. Idempotent: skips the build when all binaries and a matching stamp exist.
// kubectl (for the plugin's test through a real `kubectl temper`) is built from its own module
// (dev/controlplane/k8s/kubectl, pinned to the same Kubernetes version, checked) into the same
// directory with its own stamp, so adding it never invalidated the cached control plane.
//
//   node dev/controlplane/install-k8s.ts         # build if needed, print the binary paths
//   node dev/controlplane/install-k8s.ts kubectl # the same for kubectl
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface K8sBinaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  etcd: string;
}

/** The Kubernetes commands built from k8s.io/kubernetes, keyed like K8sBinaries. */
const kubeCommands = {
  kubeApiserver: 'kube-apiserver',
  kubeControllerManager: 'kube-controller-manager',
  kubeScheduler: 'kube-scheduler',
} as const;

export class K8sInstallError extends Error {
  override name = 'K8sInstallError';
}

const modulesDir = fileURLToPath(new URL('./k8s/', import.meta.url));
const apiserverModule = join(modulesDir, 'apiserver');
const etcdModule = join(modulesDir, 'etcd');
const kubectlModule = join(modulesDir, 'kubectl');

function log(msg: string): void {
  process.stderr.write(`[install-k8s] ${msg}\n`);
}

/** The version a go.mod pins for `modulePath` (the `require` line, not a replace). */
async function pinnedVersion(moduleDir: string, modulePath: string): Promise<string> {
  const gomod = await readFile(join(moduleDir, 'go.mod'), 'utf8');
  const line = gomod.split('\n').find((l) => l.trim().startsWith(`${modulePath} v`));
  const version = line?.trim().split(/\s+/)[1];
  if (!version) throw new K8sInstallError(`${moduleDir}/go.mod: no require line for ${modulePath}`);
  return version;
}

/** Identity of a build: versions plus the exact dependency set (go.sum) and the build flags. */
async function stampFor(k8s: string, etcd: string, ldflags: string): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of [apiserverModule, etcdModule]) {
    hash.update(await readFile(join(dir, 'go.mod')));
    hash.update(await readFile(join(dir, 'go.sum')));
  }
  hash.update(ldflags);
  const kube = Object.values(kubeCommands).map((cmd) => `${cmd} ${k8s}\n`);
  return `${kube.join('')}etcd ${etcd}\ninputs sha256:${hash.digest('hex')}\n`;
}

function runGo(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      // Static binaries (as upstream ships them); never fetch another Go toolchain.
      env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
    });
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new K8sInstallError(
          err.code === 'ENOENT'
            ? 'the `go` command was not found on PATH; Go >= 1.26 is needed to build the Kubernetes binaries and etcd'
            : `go ${args.join(' ')}: ${err.message}`,
        ),
      ),
    );
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new K8sInstallError(`go ${args.join(' ')} (in ${cwd}) failed: ${signal ?? `exit ${code}`}`)),
    );
  });
}

/**
 * `go build -o out pkgs...`: with several main packages, `out` is a directory (ending in /) and
 * each binary is named after its package; one invocation lets Go link them in parallel.
 */
async function buildBinaries(
  name: string,
  pkgs: string[],
  moduleDir: string,
  out: string,
  ldflags: string,
): Promise<void> {
  const started = Date.now();
  log(`building ${name} (a cold build takes many minutes; Go's build cache makes rebuilds fast)`);
  const heartbeat = setInterval(() => log(`  ...still building ${name} (${seconds(started)})`), 60_000);
  try {
    await runGo(['build', '-mod=readonly', '-trimpath', `-ldflags=${ldflags}`, '-o', out, ...pkgs], moduleDir);
  } finally {
    clearInterval(heartbeat);
  }
  log(`built ${name} in ${seconds(started)}`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

/** The pinned versions, the Kubernetes link flags and the cache directory they are built into. */
async function buildTarget(): Promise<{ k8s: string; etcd: string; kubeLdflags: string; dir: string }> {
  const k8s = await pinnedVersion(apiserverModule, 'k8s.io/kubernetes');
  const etcd = await pinnedVersion(etcdModule, 'go.etcd.io/etcd/server/v3');
  const [major, minor] = k8s.replace(/^v/, '').split('.');
  const versionPkg = 'k8s.io/component-base/version';
  // Without these the binaries report v0.0.0-master, which version-gating clients reject.
  const kubeLdflags = [
    '-s -w',
    `-X ${versionPkg}.gitVersion=${k8s}`,
    `-X ${versionPkg}.gitMajor=${major}`,
    `-X ${versionPkg}.gitMinor=${minor}`,
    `-X ${versionPkg}.gitTreeState=clean`,
  ].join(' ');
  const cacheRoot = process.env.TEMPER_CACHE || join(homedir(), '.cache', 'temper');
  return { k8s, etcd, kubeLdflags, dir: join(cacheRoot, 'k8s', `${k8s}-${etcd}`) };
}

/**
 * Returns the absolute path of kubectl at the control plane's Kubernetes version, building it
 * first if it is not cached (cold: a few minutes on 2 cores; most of its packages are shared
 * with kube-apiserver in Go's build cache).
 */
export async function ensureKubectl(): Promise<string> {
  const started = Date.now();
  const { k8s, kubeLdflags, dir } = await buildTarget();
  const pinned = await pinnedVersion(kubectlModule, 'k8s.io/kubernetes');
  if (pinned !== k8s) throw new K8sInstallError(`${kubectlModule}/go.mod pins k8s.io/kubernetes ${pinned}, the control plane ${k8s}: keep them equal`);
  const bin = join(dir, 'kubectl');
  const stampPath = join(dir, 'STAMP.kubectl');
  const hash = createHash('sha256');
  hash.update(await readFile(join(kubectlModule, 'go.mod')));
  hash.update(await readFile(join(kubectlModule, 'go.sum')));
  hash.update(kubeLdflags);
  const stamp = `kubectl ${k8s}\ninputs sha256:${hash.digest('hex')}\n`;
  if (existsSync(bin) && existsSync(stampPath) && await readFile(stampPath, 'utf8') === stamp) {
    log(`kubectl ${k8s} is cached in ${dir} (${seconds(started)})`);
    return bin;
  }
  await mkdir(dir, { recursive: true });
  await rm(stampPath, { force: true });
  const staging = join(dir, `.build-kubectl-${process.pid}`);
  await mkdir(staging, { recursive: true });
  try {
    await buildBinaries(`kubectl ${k8s}`, ['k8s.io/kubernetes/cmd/kubectl'], kubectlModule, join(staging, 'kubectl'), kubeLdflags);
    await rename(join(staging, 'kubectl'), bin);
    await writeFile(stampPath, stamp);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  log(`done in ${seconds(started)}`);
  return bin;
}

/** Returns absolute paths of the Kubernetes binaries and etcd, building them first if they are not cached. */
export async function ensureK8sBinaries(): Promise<K8sBinaries> {
  const started = Date.now();
  const { k8s, etcd, kubeLdflags, dir } = await buildTarget();
  const etcdLdflags = '-s -w';

  const bins: K8sBinaries = {
    kubeApiserver: join(dir, kubeCommands.kubeApiserver),
    kubeControllerManager: join(dir, kubeCommands.kubeControllerManager),
    kubeScheduler: join(dir, kubeCommands.kubeScheduler),
    etcd: join(dir, 'etcd'),
  };
  const stampPath = join(dir, 'STAMP');
  const stamp = await stampFor(k8s, etcd, `${kubeLdflags}|${etcdLdflags}`);
  const kubeNames = Object.values(kubeCommands).join(', ');

  const cachedStamp = existsSync(stampPath) ? await readFile(stampPath, 'utf8') : '';
  if (cachedStamp === stamp && Object.values(bins).every((bin) => existsSync(bin))) {
    log(`${kubeNames} ${k8s} and etcd ${etcd} are cached in ${dir} (${seconds(started)})`);
    return bins;
  }

  log(`installing ${kubeNames} ${k8s} and etcd ${etcd} into ${dir}`);
  await mkdir(dir, { recursive: true });
  await rm(stampPath, { force: true });
  // Build into a private directory and rename into place, so a concurrent reader never sees a
  // half-written binary.
  const staging = join(dir, `.build-${process.pid}`);
  await mkdir(staging, { recursive: true });
  try {
    await buildBinaries(`etcd ${etcd}`, ['go.etcd.io/etcd/server/v3'], etcdModule, join(staging, 'etcd'), etcdLdflags);
    const kubePkgs = Object.values(kubeCommands).map((cmd) => `k8s.io/kubernetes/cmd/${cmd}`);
    await buildBinaries(`${kubeNames} ${k8s}`, kubePkgs, apiserverModule, `${staging}/`, kubeLdflags);
    await rename(join(staging, 'etcd'), bins.etcd);
    for (const [key, cmd] of Object.entries(kubeCommands)) {
      await rename(join(staging, cmd), bins[key as keyof typeof kubeCommands]);
    }
    await writeFile(stampPath, stamp);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  log(`done in ${seconds(started)}`);
  return bins;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const bins = process.argv[2] === 'kubectl' ? [await ensureKubectl()] : Object.values(await ensureK8sBinaries());
    process.stdout.write(`${bins.join('\n')}\n`);
  } catch (err) {
    process.stderr.write(`install-k8s: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
