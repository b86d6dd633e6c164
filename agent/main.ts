#!/usr/bin/env node
// temper-agent: one per node. Watches its node's pods, renders and runs scx_layered, publishes
// the node annotations, and serves gRPC (unix socket) and HTTP (loopback) until SIGTERM.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeConfigError, loadKubeConfig } from '../adapters/kubeconfig.ts';
import { jsonLogger } from '../adapters/log.ts';
import { policyFromFlag, programArgs } from '../adapters/program-args.ts';
import { Agent } from './agent.ts';
import { DEFAULT_TASK_HINT_MAP } from './hints.ts';
import { DEFAULT_PROFILES_DIR } from './profile-files.ts';
import { DEFAULT_GRPC_ADDRESS, startGrpcServer } from './grpc.ts';
import { listenHttp, listenProbes } from './http.ts';

// scx_layered's system layer matches this comm (PcommPrefix), keeping the agent serviced.
process.title = 'temper-agent';
const log = jsonLogger('agent');

const values = programArgs('temper-agent', 'The node agent: watches its node\'s pods, renders and runs scx_layered, publishes the node annotations, serves gRPC and HTTP until SIGTERM.', {
  config: { type: 'string', arg: 'file', default: process.env.TEMPER_CONFIG, help: 'Temper configuration (TOML; default $TEMPER_CONFIG, else the defaults)' },
  kubeconfig: { type: 'string', arg: 'file', help: 'kubeconfig (default: in-cluster, $KUBECONFIG or ~/.kube/config)' },
  node: { type: 'string', arg: 'name', default: process.env.NODE_NAME, help: 'this node\'s name (default $NODE_NAME)' },
  'scx-binary': { type: 'string', arg: 'path', default: '/usr/local/bin/scx_layered', help: 'the scx_layered binary' },
  'scx-arg': { type: 'string', arg: 'flag', multiple: true, default: [], help: 'an extra scx_layered argument' },
  'state-dir': { type: 'string', arg: 'dir', default: '/run/temper', help: 'where configs and generations are kept' },
  'sched-ext-dir': { type: 'string', arg: 'dir', default: '/sys/kernel/sched_ext', help: 'the kernel\'s sched_ext sysfs directory' },
  'grpc-address': { type: 'string', arg: 'address', default: DEFAULT_GRPC_ADDRESS, help: 'gRPC listen address (unix:PATH or host:port)' },
  'http-host': { type: 'string', arg: 'address', default: '127.0.0.1', help: 'HTTP listen address (health, metrics, API, dashboard)' },
  'http-port': { type: 'string', arg: 'port', default: '8080', help: 'HTTP port' },
  'probe-host': { type: 'string', arg: 'address', default: '0.0.0.0', help: 'address of the kubelet probes\' listener (/healthz and /readyz only)' },
  'probe-port': { type: 'string', arg: 'port', default: '0', help: 'port of the kubelet probes\' listener (0: none; the API stays on --http-host)' },
  'task-hint-map': { type: 'string', arg: 'path', default: DEFAULT_TASK_HINT_MAP, help: 'placement "hints": where scx_layered pins its task-hint map (its directory is made 0700)' },
  'cgroup-root': { type: 'string', arg: 'dir', default: '/sys/fs/cgroup', help: 'placement "hints": the cgroup v2 mount the pods\' cgroups are under' },
  'hints-helper': { type: 'string', arg: 'path', default: 'temper-hints', help: 'placement "hints": the native task-hint writer (bpf/temper-hints.c)' },
  'profiles-dir': { type: 'string', arg: 'dir', default: DEFAULT_PROFILES_DIR, help: 'workload-profile files (every *.toml, re-read when they change; a missing directory is none)' },
  'proc-root': { type: 'string', arg: 'dir', default: '/proc', help: 'the procfs mount where profiled pods\' thread names are read' },
  'stop-scheduler-on-exit': { type: 'boolean', default: false, help: 'stop scx_layered when the agent exits (default: leave it running)' },
});

function fail(message: string): never {
  log.error('agent failed to start', { error: message });
  process.stderr.write(`temper-agent: ${message}\n`);
  process.exit(1);
}

if (values.node === undefined || values.node === '') fail('no node name: set NODE_NAME (downward API spec.nodeName) or pass --node');
const policy = policyFromFlag(values.config, fail);
let kc: KubeConfig;
try {
  kc = loadKubeConfig({ kubeconfig: values.kubeconfig });
} catch (err) {
  if (err instanceof KubeConfigError) fail(err.message);
  throw err;
}

const agent = new Agent({
  kc, nodeName: values.node, policy, ...(values.config === undefined ? {} : { policyPath: values.config }), profilesDir: values['profiles-dir'], log,
  scheduler: {
    // scx_layered always serves its stats socket (/var/run/scx/root/stats); extra flags as given.
    binary: values['scx-binary'], args: values['scx-arg'] ?? [],
    stateDir: values['state-dir'], schedExtDir: values['sched-ext-dir'],
  },
  // used only with node.placement = "hints"
  hints: { mapPin: values['task-hint-map'], cgroupRoot: values['cgroup-root'], helper: values['hints-helper'], procRoot: values['proc-root'] },
});
agent.start();
const http = await listenHttp(agent, values['http-host'], Number(values['http-port']));
const probes = Number(values['probe-port']) > 0 ? await listenProbes(agent, values['probe-host'], Number(values['probe-port'])) : null;
const grpc = await startGrpcServer({ store: agent.store, status: () => agent.status(), address: values['grpc-address'] });
// Downward API: the agent's own pod. Its namespace must be Temper's, whose pods the system layer keeps.
const podNamespace = process.env.POD_NAMESPACE;
if (podNamespace !== undefined && podNamespace !== policy.naming.namespace) {
  log.warn('the agent runs outside naming.namespace: its pod is not in the system layer', { podNamespace, namespace: policy.naming.namespace });
}
log.info('agent running', { node: values.node, pod: process.env.POD_NAME ?? null, podNamespace: podNamespace ?? null, http: http.url, probes: probes?.url ?? null, grpc: grpc.address });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('shutting down', { signal, stopScheduler: values['stop-scheduler-on-exit'] });
  setTimeout(() => process.exit(0), 15_000).unref();
  await Promise.allSettled([http.close(), probes?.close(), grpc.close(), agent.stop(values['stop-scheduler-on-exit'])]);
  process.exit(0);
}
process.on('SIGTERM', () => { void shutdown('SIGTERM'); });
process.on('SIGINT', () => { void shutdown('SIGINT'); });
