// A real, local Kubernetes control plane for integration tests and the demo: etcd,
// kube-apiserver and (unless `controllers: false`) kube-controller-manager and kube-scheduler,
// all on loopback with TLS. There is no kubelet: the Node object is registered by hand, and pods
// (created directly with spec.nodeName, or by a Deployment and bound by the scheduler) stay
// Pending. Everything lives in one temp dir: PKI, etcd data, logs and kubeconfigs.
//
// kube-controller-manager runs every default controller except node-lifecycle-controller: with no
// kubelet renewing the Node's Lease, it would mark the Node NotReady/Unknown after its grace
// period (50 s), taint it not-ready/unreachable (blocking the scheduler) and have taint eviction
// delete its pods. Leaving it out keeps the hand-registered Node Ready and untainted for the whole
// run, deterministically, with no heartbeat timer in the test process.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { arch, availableParallelism, hostname, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ensureK8sBinaries, type K8sBinaries } from './install-k8s.ts';
import { type CertFiles, createCA, createSigningKey, issueCert } from '../pki.ts';

export interface ControlPlaneOptions {
  /** Name of the Node object to register. Default: this machine's hostname if it is a valid node name, else temper-node-1. */
  nodeName?: string;
  /** Prebuilt binaries; default: ensureK8sBinaries(). */
  binaries?: K8sBinaries;
  /** How long the control plane may take to become ready (a few seconds on a 2-core machine). Default 120 s. */
  startTimeoutMs?: number;
  /**
   * Also run kube-controller-manager and kube-scheduler (Deployments get ReplicaSets and Pods,
   * namespaces their `default` ServiceAccount, unbound pods a node). Default true.
   */
  controllers?: boolean;
}

export interface ControlPlane {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  caPem: string;
  nodeName: string;
  kc: KubeConfig;
  /** Whether kube-controller-manager and kube-scheduler run. */
  controllers: boolean;
  /** Temp dir with pki/, etcd data, <component>.log and the kubeconfigs. Removed by stop(). */
  dir: string;
  /** Stops kube-apiserver alone (an outage: etcd and the controllers keep running). */
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again on the same address and waits until it is ready. */
  startApiserver(): Promise<void>;
  stop(): Promise<void>;
}

export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
}

interface Running {
  dir: string;
  children: ChildProcess[];
}

// Control planes of this process that are not stopped yet, killed synchronously on exit.
const live = new Set<Running>();

/**
 * Starts etcd, kube-apiserver and (by default) kube-controller-manager and kube-scheduler on
 * loopback, registers the Node, and returns an admin KubeConfig.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const started = Date.now();
  const binaries = opts.binaries ?? (await ensureK8sBinaries());
  const nodeName = opts.nodeName ?? defaultNodeName();
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  const controllers = opts.controllers ?? true;
  registerExitCleanup();

  const dir = await mkdtemp(join(tmpdir(), 'temper-cp-'));
  const running: Running = { dir, children: [] };
  live.add(running);
  try {
    const pki = await createPki(dir);
    const kubeconfigPath = join(dir, 'kubeconfig');
    let server = '';
    let kc = new KubeConfig();
    let apiserver: Launched['apiserver'] | undefined;
    // A port found free can be taken before a component binds it; retry with fresh ports then.
    for (let attempt = 1; ; attempt++) {
      const [etcd, api, controllerManager, scheduler] = await freePorts(controllers ? 4 : 2);
      const ports: Ports = { etcd: etcd!, api: api!, ...(controllers && { controllerManager, scheduler }) };
      try {
        const launched = await launch(running, binaries, pki, ports, timeoutMs);
        server = launched.server;
        apiserver = launched.apiserver;
        await writeFile(kubeconfigPath, kubeconfig(server, pki.ca, 'temper-admin', pki.admin));
        kc = new KubeConfig();
        kc.loadFromFile(kubeconfigPath);
        // While the controller-manager and scheduler start up:
        const core = kc.makeApiClient(CoreV1Api);
        // The apiserver creates `default` itself (system namespaces controller), shortly after /readyz.
        await waitFor('namespace default', timeoutMs, () => core.readNamespace({ name: 'default' }).then(() => true));
        await registerNode(core, nodeName);
        await launched.componentsHealthy();
        break;
      } catch (err) {
        await killChildren(running);
        if (!(err instanceof PortInUseError) || attempt === 3) throw err;
      }
    }

    const core = kc.makeApiClient(CoreV1Api);
    if (controllers) {
      // Proof that kube-controller-manager's controllers run (not just its HTTP server): the
      // serviceaccount controller gives every namespace its `default` ServiceAccount.
      await waitFor('the serviceaccount controller to create default/default', timeoutMs, () =>
        core.readNamespacedServiceAccount({ namespace: 'default', name: 'default' }).then(() => true),
      );
    } else {
      await ensureNamespace(kc, 'default');
    }

    const stop = async (): Promise<void> => {
      if (!live.has(running)) return;
      await killChildren(running);
      live.delete(running);
      await rm(dir, { recursive: true, force: true });
    };
    const what = controllers ? 'control plane (with controller-manager and scheduler)' : 'control plane';
    log(`${what} ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)}s (dir ${dir})`);
    const api = apiserver;
    if (api === undefined) throw new ControlPlaneError('kube-apiserver was not launched');
    return { kubeconfigPath, server, caPem: pki.ca.certPem, nodeName, kc, controllers, dir, stopApiserver: api.stop, startApiserver: api.start, stop };
  } catch (err) {
    await killChildren(running);
    live.delete(running);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Creates the namespace if needed, plus its `default` ServiceAccount: the ServiceAccount
 * admission plugin rejects pods whose account is missing. With controllers the serviceaccount
 * controller creates it too, but only shortly after the namespace appears; creating it here
 * (tolerating the controller winning the race) lets a test create pods right away.
 */
export async function ensureNamespace(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await ignoreConflict(core.createNamespace({ body: { metadata: { name } } }));
  await ignoreConflict(
    core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } }),
  );
}

type Pki = Awaited<ReturnType<typeof createPki>>;

async function createPki(dir: string) {
  const pkiDir = join(dir, 'pki');
  await mkdir(pkiDir);
  const ca = await createCA(pkiDir, 'ca', 'temper-test-ca');
  const serving = await issueCert(pkiDir, ca, {
    name: 'apiserver',
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ips: ['127.0.0.1', '10.0.0.1'],
    usage: 'server',
  });
  const [admin, controllerManager, scheduler, componentServing, serviceAccount] = await Promise.all([
    issueCert(pkiDir, ca, {
      name: 'admin',
      commonName: 'temper-admin',
      organizations: ['system:masters'],
      usage: 'client',
    }),
    // The identities the bootstrap RBAC policy grants the components' roles to.
    issueCert(pkiDir, ca, {
      name: 'controller-manager',
      commonName: 'system:kube-controller-manager',
      usage: 'client',
    }),
    issueCert(pkiDir, ca, { name: 'scheduler', commonName: 'system:kube-scheduler', usage: 'client' }),
    // Serving cert of the controller-manager's and scheduler's health/metrics endpoints.
    issueCert(pkiDir, ca, {
      name: 'component-serving',
      commonName: 'temper-test-components',
      dnsNames: ['localhost'],
      ips: ['127.0.0.1'],
      usage: 'server',
    }),
    createSigningKey(pkiDir, 'service-account'),
  ]);
  return { ca, serving, admin, controllerManager, scheduler, componentServing, serviceAccount };
}

interface Ports {
  etcd: number;
  api: number;
  /** Secure (health/metrics) ports; absent without controllers. */
  controllerManager?: number;
  scheduler?: number;
}

interface Launched {
  /** https://127.0.0.1:<port>, ready */
  server: string;
  /** Stops kube-apiserver (etcd and the rest keep running) and starts it again on the same port. */
  apiserver: { stop(): Promise<void>; start(): Promise<void> };
  /** Waits for the controller-manager's and scheduler's health endpoints (no-op without them). */
  componentsHealthy(): Promise<void>;
}

/** Starts etcd and kube-apiserver and waits until it is ready; then spawns the controllers, if any. */
async function launch(
  running: Running,
  bins: K8sBinaries,
  pki: Pki,
  ports: Ports,
  timeoutMs: number,
): Promise<Launched> {
  const { dir } = running;
  const { etcd: etcdPort, api: apiPort } = ports;
  const dataDir = join(dir, 'etcd-data');
  await rm(dataDir, { recursive: true, force: true }); // a fresh member on every attempt
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  // Plain HTTP on loopback: only kube-apiserver talks to etcd. Peer port 0: single member.
  const etcd = spawnLogged(bins.etcd, 'etcd', dir, [
    '--name=temper',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    '--listen-peer-urls=http://127.0.0.1:0',
    '--unsafe-no-fsync=true', // throwaway data; fsync dominates test latency
  ]);
  running.children.push(etcd.child);
  await waitFor('etcd /health', timeoutMs, () => getOk(httpRequest, `${etcdUrl}/health`, {}), etcd);

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    // Loopback is not a valid Endpoints IP, so the `kubernetes` Service gets no endpoints.
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    '--service-cluster-ip-range=10.0.0.0/24',
    `--tls-cert-file=${pki.serving.certFile}`,
    `--tls-private-key-file=${pki.serving.keyFile}`,
    `--client-ca-file=${pki.ca.certFile}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccount.pubFile}`,
    `--service-account-signing-key-file=${pki.serviceAccount.keyFile}`,
    '--authorization-mode=Node,RBAC',
    // Added to the default set (which already has ServiceAccount, Priority, the webhooks, VAP).
    '--enable-admission-plugins=NodeRestriction,Priority,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy',
    '--allow-privileged=true',
  ];
  const tls = { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
  let apiserver = spawnLogged(bins.kubeApiserver, 'kube-apiserver', dir, apiserverArgs);
  running.children.push(apiserver.child);
  await waitFor('kube-apiserver /readyz', timeoutMs, () => getOk(httpsRequest, `${server}/readyz`, tls), apiserver);
  const control = {
    stop: async (): Promise<void> => {
      const child = apiserver.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      signalGroup(child, 'SIGKILL'); // an outage, not a drain: the graceful shutdown takes a minute
      await exited;
      running.children = running.children.filter((c) => c !== child);
    },
    start: async (): Promise<void> => {
      apiserver = spawnLogged(bins.kubeApiserver, 'kube-apiserver', dir, apiserverArgs);
      running.children.push(apiserver.child);
      await waitFor('kube-apiserver /readyz after a restart', timeoutMs, () => getOk(httpsRequest, `${server}/readyz`, tls), apiserver);
    },
  };

  if (ports.controllerManager === undefined || ports.scheduler === undefined) {
    return { server, apiserver: control, componentsHealthy: async () => {} };
  }
  const { controllerManager, scheduler } = ports;
  const componentsHealthy = await launchControllers(running, bins, pki, server, controllerManager, scheduler, timeoutMs);
  return { server, apiserver: control, componentsHealthy };
}

/**
 * Spawns kube-controller-manager and kube-scheduler against `server`; the returned function
 * waits for their health endpoints (the scheduler's /readyz includes its informers having
 * synced). The caller then checks that the controllers actually act.
 */
async function launchControllers(
  running: Running,
  bins: K8sBinaries,
  pki: Pki,
  server: string,
  controllerManagerPort: number,
  schedulerPort: number,
  timeoutMs: number,
): Promise<() => Promise<void>> {
  const { dir } = running;
  const kcmKubeconfig = join(dir, 'controller-manager.kubeconfig');
  const schedulerKubeconfig = join(dir, 'scheduler.kubeconfig');
  const schedulerConfig = join(dir, 'scheduler.yaml');
  await Promise.all([
    writeFile(kcmKubeconfig, kubeconfig(server, pki.ca, 'system:kube-controller-manager', pki.controllerManager)),
    writeFile(schedulerKubeconfig, kubeconfig(server, pki.ca, 'system:kube-scheduler', pki.scheduler)),
    writeFile(
      schedulerConfig,
      stringify({
        apiVersion: 'kubescheduler.config.k8s.io/v1',
        kind: 'KubeSchedulerConfiguration',
        clientConnection: { kubeconfig: schedulerKubeconfig },
        leaderElection: { leaderElect: false }, // --leader-elect=false; a single instance
      }),
    ),
  ]);
  // Both serve health and metrics on loopback with a cert from the test CA. Clients authenticate
  // with a test-CA cert or a token (TokenReview), and are authorized by SubjectAccessReview, as in
  // a cluster; /healthz, /readyz and /livez are open. The client CA is given directly: looking it
  // up in kube-system/extension-apiserver-authentication logs an error every few seconds, as this
  // apiserver has no front-proxy (requestheader) CA.
  const serving = (port: number, kubeconfigPath: string): string[] => [
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.componentServing.certFile}`,
    `--tls-private-key-file=${pki.componentServing.keyFile}`,
    `--client-ca-file=${pki.ca.certFile}`,
    '--authentication-skip-lookup=true',
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
  ];

  const controllerManager = spawnLogged(bins.kubeControllerManager, 'kube-controller-manager', dir, [
    `--kubeconfig=${kcmKubeconfig}`,
    ...serving(controllerManagerPort, kcmKubeconfig),
    '--leader-elect=false',
    // Every on-by-default controller but node-lifecycle-controller (see the top of this file).
    '--controllers=*,-node-lifecycle-controller',
    // Each controller acts as its own ServiceAccount (kube-system/<name>-controller, created by
    // the controller-manager, tokens via TokenRequest) with the bootstrap RBAC role made for it,
    // as kubeadm sets it up. With =false every controller would act as
    // system:kube-controller-manager, whose bootstrap role only covers the plumbing (informers,
    // leases, ServiceAccounts, tokens): the deployment, replicaset, root-ca publisher, ttl and
    // clusterrole-aggregation controllers got 403s, unless the cert were in system:masters.
    '--use-service-account-credentials=true',
    // serviceaccount-token-controller: signs legacy token Secrets, publishes ca.crt in them.
    `--service-account-private-key-file=${pki.serviceAccount.keyFile}`,
    `--root-ca-file=${pki.ca.certFile}`,
    // certificatesigningrequest-signing-controller: approved CSRs are signed by the test CA.
    `--cluster-signing-cert-file=${pki.ca.certFile}`,
    `--cluster-signing-key-file=${pki.ca.keyFile}`,
    // Tests create objects in bursts; the defaults (20 qps, burst 30) would throttle them.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
  ]);
  running.children.push(controllerManager.child);
  const scheduler = spawnLogged(bins.kubeScheduler, 'kube-scheduler', dir, [
    `--config=${schedulerConfig}`,
    ...serving(schedulerPort, schedulerKubeconfig),
  ]);
  running.children.push(scheduler.child);

  const tls = { ca: pki.ca.certPem };
  const healthy = (watched: Watched, port: number, path: string): Promise<void> => {
    const url = `https://127.0.0.1:${port}${path}`;
    return waitFor(`${watched.name} ${path}`, timeoutMs, () => getOk(httpsRequest, url, tls), watched);
  };
  return async () => {
    await Promise.all([
      healthy(controllerManager, controllerManagerPort, '/healthz'),
      healthy(scheduler, schedulerPort, '/readyz'),
    ]);
  };
}

class PortInUseError extends ControlPlaneError {}

function spawnLogged(bin: string, name: string, dir: string, args: string[]): Watched {
  const logPath = join(dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  try {
    // Own process group, so stop() can signal the whole tree; unref'd so a forgotten stop()
    // cannot keep the test runner alive (the exit hook kills it instead).
    const child = spawn(bin, args, { cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {}); // surfaced as an early exit by waitFor
    child.unref();
    return { child, name, logPath };
  } finally {
    closeSync(fd);
  }
}

interface Watched {
  child: ChildProcess;
  name: string;
  logPath: string;
}

/** Polls `probe` until it returns true; fails early if the watched process exits, with its log's tail. */
async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, watched?: Watched): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (watched) {
      const { child, name } = watched;
      if (child.pid === undefined) throw startupError(`${name} (${child.spawnfile}) could not be started`, watched);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw startupError(`${name} exited (${child.signalCode ?? `code ${child.exitCode}`}) before ${what}`, watched);
      }
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw startupError(`timed out after ${timeoutMs / 1000}s waiting for ${what}`, watched);
    await sleep(200);
  }
}

function startupError(msg: string, watched?: Watched): ControlPlaneError {
  if (!watched) return new ControlPlaneError(msg);
  let tail: string;
  try {
    tail = readFileSync(watched.logPath, 'utf8').trimEnd().split('\n').slice(-40).join('\n') || '(empty log)';
  } catch {
    tail = '(no log file)';
  }
  const ErrorType = /address already in use/.test(tail) ? PortInUseError : ControlPlaneError;
  return new ErrorType(`${msg}\n--- last lines of ${watched.logPath} ---\n${tail}`);
}

function getOk(
  request: typeof httpRequest,
  url: string,
  tls: { ca?: string; cert?: string; key?: string },
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** A free loopback port (released again; the caller's component binds it moments later). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** `n` distinct free loopback ports: all held open at once so they differ, then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
      servers.push(srv);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

async function killChildren(running: Running, graceMs = 10_000): Promise<void> {
  // In reverse start order: scheduler, controller-manager, apiserver, then etcd.
  for (const child of [...running.children].reverse()) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  running.children = [];
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

let exitCleanupRegistered = false;

function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  const killAllNow = (): void => {
    for (const running of live) {
      for (const child of running.children) signalGroup(child, 'SIGKILL');
      rmSync(running.dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on('exit', killAllNow);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const onSignal = (): void => {
      killAllNow();
      // Only take over the exit if nobody else (e.g. the test runner) handles the signal.
      if (process.listenerCount(signal) === 1) process.exit(code);
    };
    process.on(signal, onSignal);
  }
}

function kubeconfig(server: string, ca: CertFiles, user: string, cert: CertFiles): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'temper-test', cluster: { server, 'certificate-authority-data': b64(ca.certPem) } }],
    users: [
      { name: user, user: { 'client-certificate-data': b64(cert.certPem), 'client-key-data': b64(cert.keyPem) } },
    ],
    contexts: [{ name: 'temper-test', context: { cluster: 'temper-test', user } }],
    'current-context': 'temper-test',
  });
}

async function registerNode(core: CoreV1Api, name: string): Promise<void> {
  const cpu = String(availableParallelism());
  const memory = `${Math.floor(totalmem() / 1024)}Ki`;
  const resources = { cpu, memory, pods: '110' };
  const now = new Date();
  const node: V1Node = {
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': goArch(),
      },
    },
    status: {
      capacity: resources,
      allocatable: resources,
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'registered by the Temper test control plane (no kubelet)',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      nodeInfo: {
        architecture: goArch(),
        operatingSystem: 'linux',
        kernelVersion: release(),
        osImage: 'temper-test',
        containerRuntimeVersion: 'none',
        kubeletVersion: 'none',
        kubeProxyVersion: '',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
  await createSchedulableNode(core, node);
}

/**
 * Creates a Node the scheduler can use on this control plane. The TaintNodesByCondition
 * admission plugin taints every new Node node.kubernetes.io/not-ready:NoSchedule; the
 * node-lifecycle controller would lift it once the Node is Ready, but it does not run here, so
 * it is lifted by hand, or the scheduler binds nothing to the Node.
 */
export async function createSchedulableNode(core: CoreV1Api, node: V1Node): Promise<void> {
  const name = node.metadata?.name ?? '';
  await core.createNode({ body: node });
  for (;;) {
    const current = await core.readNode({ name });
    if (!current.spec?.taints?.length) return;
    current.spec.taints = [];
    try {
      await core.replaceNode({ name, body: current });
      return;
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err; // e.g. the ttl controller's annotation
    }
  }
}

function defaultNodeName(): string {
  const host = hostname().toLowerCase();
  const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  return host.length <= 253 && dns1123Subdomain.test(host) ? host : 'temper-node-1';
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[arch()] ?? arch();
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

function log(msg: string): void {
  process.stderr.write(`[controlplane] ${msg}\n`);
}

export interface ExtraSchedulerOptions {
  /** The running control plane's directory (`ControlPlane.dir`, the kubeconfig's folder). */
  controlPlaneDir: string;
  binaries?: K8sBinaries;
  /**
   * The KubeSchedulerConfiguration: profiles, extenders, backoffs, `clientConnection.qps`.
   * `clientConnection.kubeconfig` (the scheduler's own identity) and `leaderElection` (off) are set here.
   */
  config: Record<string, unknown>;
  /** Log file name inside the directory. Default `kube-scheduler-extra.log`. */
  logName?: string;
  timeoutMs?: number;
}

export interface ExtraScheduler {
  /** https://127.0.0.1:<port> of its health and metrics endpoints (serving cert from the test CA). */
  url: string;
  logPath: string;
  stop(): Promise<void>;
}

/**
 * Starts another real kube-scheduler against a running control plane (a second scheduler, as a
 * cluster runs `temper-scheduler` beside the default one), as system:kube-scheduler, and waits
 * until its /readyz answers (its informers synced).
 */
export async function startExtraScheduler(o: ExtraSchedulerOptions): Promise<ExtraScheduler> {
  const binaries = o.binaries ?? (await ensureK8sBinaries());
  const dir = o.controlPlaneDir;
  const kubeconfigPath = join(dir, 'scheduler.kubeconfig');
  const name = (o.logName ?? 'kube-scheduler-extra.log').replace(/\.log$/, '');
  const configPath = join(dir, `${name}.yaml`);
  await writeFile(configPath, stringify({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    ...o.config,
    clientConnection: { ...(o.config.clientConnection as Record<string, unknown> | undefined), kubeconfig: kubeconfigPath },
    leaderElection: { leaderElect: false },
  }));
  const port = await freePort();
  const pki = join(dir, 'pki');
  const running: Running = { dir, children: [] };
  registerExitCleanup();
  const watched = spawnLogged(binaries.kubeScheduler, name, dir, [
    `--config=${configPath}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${join(pki, 'component-serving.crt')}`,
    `--tls-private-key-file=${join(pki, 'component-serving.key')}`,
    `--client-ca-file=${join(pki, 'ca.crt')}`,
    '--authentication-skip-lookup=true',
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
  ]);
  running.children.push(watched.child);
  // Killed on exit with the rest, but its directory belongs to the control plane: never removed here.
  const tracked: Running = { dir: join(dir, `${name}.none`), children: running.children };
  live.add(tracked);
  const url = `https://127.0.0.1:${port}`;
  const ca = readFileSync(join(pki, 'ca.crt'), 'utf8');
  try {
    await waitFor(`${name} /readyz`, o.timeoutMs ?? 60_000, () => getOk(httpsRequest, `${url}/readyz`, { ca }), watched);
  } catch (err) {
    await killChildren(running);
    live.delete(tracked);
    throw err;
  }
  return {
    url, logPath: watched.logPath,
    stop: async () => {
      await killChildren(running);
      live.delete(tracked);
    },
  };
}
