/**
 * `kubectl temper config`: what the node agent enforces, read from the agent's HTTP API
 * (agent/api.ts). The agent is reached with `--agent-url`, or through a port-forward to the
 * agent pod on the node that this command opens and closes itself.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { ApiException, KubeConfig, PortForward } from '@kubernetes/client-node';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { defaultPolicy } from '../core/config.ts';
import type { CliIo } from './cli.ts';
import type { Cluster, ClusterFlags } from './live.ts';
import { ClusterError, connect, parseTimeout } from './live.ts';
import { readPolicy } from './manifests.ts';

/** The label Temper's chart puts on agent pods. */
export const AGENT_LABEL = 'app.kubernetes.io/name=temper-agent';
export const DEFAULT_AGENT_PORT = 8080;

/** The agent could not be found, reached, or gave no usable answer: one line, exit 1. */
export class AgentApiError extends ClusterError {
  override name = 'AgentApiError';
}

/** How to reach a node's agent: `--agent-url`, or the agent pod on `--node` (shared with `dashboard`). */
export interface AgentLocator extends ClusterFlags {
  node?: string;
  agentUrl?: string;
  agentPort: number;
  config?: string;
}

interface ConfigOptions extends AgentLocator {
  generation?: number;
  diff?: GenerationRange;
  output?: 'json' | 'yaml';
}

interface GenerationRange {
  readonly from: number;
  readonly to: number;
}

// ---- the agent's answers, as far as this command reads them (validated on arrival) ------

interface StatusBody {
  readonly node: string;
  readonly state: string;
  readonly generation: number | null;
}

interface GenerationBody {
  readonly number: number;
  readonly createdAt: string;
  readonly sha256: string;
  readonly configJson: string;
}

interface DiffBody {
  readonly from: number;
  readonly to: number;
  readonly layers: readonly { readonly layer: string; readonly change: string; readonly fields: readonly { readonly path: string; readonly before: unknown; readonly after: unknown }[] }[];
  readonly moves: readonly { readonly namespace: string; readonly name: string; readonly from: string | null; readonly to: string | null }[];
  readonly text: string;
}

type Shape = Readonly<Record<string, 'string' | 'number' | 'array' | 'number|null'>>;

function checkShape<T>(body: unknown, shape: Shape, what: string, where: string): T {
  const obj = body as Record<string, unknown>;
  const ok = typeof body === 'object' && body !== null && Object.entries(shape).every(([key, type]) => {
    const v = obj[key];
    if (type === 'array') return Array.isArray(v);
    if (type === 'number|null') return v === null || typeof v === 'number';
    if (type === 'number') return typeof v === 'number';
    return typeof v === 'string';
  });
  if (!ok) throw new AgentApiError(`unexpected answer from the agent at ${where}: not a ${what}`);
  return body as T;
}

// ---- command-line values --------------------------------------------------------------

function parseGenerationArg(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError('want a generation number (1, 2, …)');
  }
  return Number(text);
}

function parseRangeArg(text: string): GenerationRange {
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  if (m === null) throw new InvalidArgumentError('want two generation numbers as A..B, e.g. 3..5');
  return { from: parseGenerationArg(m[1] ?? ''), to: parseGenerationArg(m[2] ?? '') };
}

export function parsePortArg(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new InvalidArgumentError('want a TCP port (1–65535)');
  return port;
}

// ---- reaching the agent ------------------------------------------------------------------

export interface AgentConnection {
  /** `http://…/api/v1`, no trailing slash. */
  readonly baseUrl: string;
  /** Where the agent is, for messages. */
  readonly where: string;
  /** Why the transport failed, when it knows better than the HTTP client (a port-forward error). */
  failure?(): string | null;
  close(): Promise<void>;
}

/** `http://host:8080`, `http://host:8080/`, `http://host:8080/api/v1` all mean the same agent. */
function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AgentApiError(`invalid --agent-url ${JSON.stringify(url)}: want e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AgentApiError(`invalid --agent-url ${url}: want an http:// or https:// URL`);
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${parsed.origin}${path.endsWith('/api/v1') ? path : `${path}/api/v1`}`;
}

function describeCause(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** Runs one Kubernetes API call, turning failures into one line like kubectl's. */
async function clusterCall<T>(cluster: Cluster, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await (cluster.timeoutMs > 0 ? Promise.race([fn(), new Promise<never>((_, reject) => {
      setTimeout(() => reject(new ClusterError(`${what}: request timed out after ${cluster.timeoutMs}ms`)), cluster.timeoutMs).unref();
    })]) : fn());
  } catch (err) {
    if (err instanceof ClusterError) throw err;
    if (err instanceof ApiException) {
      let message = `HTTP ${err.code}`;
      try {
        const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: unknown };
        if (typeof body.message === 'string') message = body.message;
      } catch { /* keep the status code */ }
      throw new ClusterError(`${what}: ${err.code === 403 ? `forbidden: ${message}` : message}`);
    }
    throw new ClusterError(`cannot reach the cluster at ${cluster.server}: ${describeCause(err)}`);
  }
}

/** The node to look at when none is named: the only one, or an error listing the choices. */
export function onlyNodeName(nodes: readonly V1Node[]): string {
  const names = nodes.map((n) => n.metadata?.name ?? '').filter((n) => n !== '').sort();
  if (names.length === 1) return names[0] as string;
  if (names.length === 0) throw new AgentApiError('the cluster has no nodes');
  const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')}, …` : names.join(', ');
  throw new AgentApiError(`the cluster has ${names.length} nodes: pass --node NODE (${shown})`);
}

/** The running agent pod among `pods` (those on `node` with the agent label), or why there is none. */
export function agentPodName(pods: readonly V1Pod[], node: string, namespace: string): string {
  const running = pods.filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined);
  const chosen = running[0] ?? null;
  if (chosen !== null) return chosen.metadata?.name ?? '';
  const other = pods[0];
  if (other !== undefined) {
    throw new AgentApiError(`the Temper agent pod ${namespace}/${other.metadata?.name ?? '?'} on node ${node} is ${other.metadata?.deletionTimestamp === undefined ? (other.status?.phase ?? 'not running') : 'terminating'}, not Running`);
  }
  throw new AgentApiError(`no Temper agent pod on node ${node} (namespace ${namespace}, label ${AGENT_LABEL}): is Temper installed there?`);
}

function loadKubeConfig(flags: ClusterFlags): KubeConfig {
  const kc = new KubeConfig();
  if (flags.kubeconfig !== undefined) kc.loadFromFile(flags.kubeconfig);
  else kc.loadFromDefault();
  if (flags.context !== undefined) kc.setCurrentContext(flags.context);
  return kc;
}

/**
 * Finds the agent pod on the node and forwards a local ephemeral port to its HTTP port, like
 * `kubectl port-forward`: each local TCP connection becomes one port-forward stream through
 * the API server (client-node's PortForward over a WebSocket).
 *
 * Not exercised by the tests: a port-forward needs a kubelet running the pod, and the test
 * control plane has none (against it, the node and pod lookup work and the forward fails at the
 * API server's kubelet hop with "port-forward failed: Unexpected server response: 500"). The
 * tests reach a real in-process agent API with --agent-url instead; the pod and node choice
 * (onlyNodeName, agentPodName) is tested on its own.
 */
async function portForwardToAgent(opts: AgentLocator): Promise<AgentConnection> {
  const cluster = connect(opts); // validates the kubeconfig and context with kubectl-like errors
  const kc = loadKubeConfig(opts);
  const namespace = (opts.config === undefined ? defaultPolicy() : readPolicy(opts.config)).naming.namespace;
  const node = opts.node ?? onlyNodeName((await clusterCall(cluster, 'list nodes', () => cluster.core.listNode())).items);
  const pods = await clusterCall(cluster, `list agent pods in namespace ${namespace}`, () => cluster.core.listNamespacedPod({
    namespace, labelSelector: AGENT_LABEL, fieldSelector: `spec.nodeName=${node}`,
  }));
  const pod = agentPodName(pods.items, node, namespace);
  const port = opts.agentPort;
  const forward = new PortForward(kc);
  const sockets = new Set<Socket>();
  let failure: string | null = null;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A failed forward closes the local connection; the reason is reported instead of the reset.
    const fail = (reason: string): void => {
      failure ??= `port-forward failed: ${reason}`;
      socket.destroy();
    };
    socket.on('error', () => undefined);
    // The error channel carries the kubelet's complaint (e.g. nothing listening on the port).
    const errors = new Writable({
      write(chunk: Buffer, _enc, done) {
        fail(chunk.toString('utf8').trim());
        done();
      },
    });
    forward.portForward(namespace, pod, [port], socket, errors, socket)
      .then((ws) => {
        if (typeof ws === 'function') return;
        ws.on('error', (err: { message?: string }) => fail(err.message ?? 'WebSocket error'));
        ws.on('close', () => socket.end()); // the agent or the API server hung up
        socket.on('close', () => ws.close());
      })
      .catch((err: unknown) => fail((err as { message?: string }).message ?? String(err)));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const local = server.address();
  if (local === null || typeof local === 'string') throw new AgentApiError('port-forward: no local port');
  return {
    baseUrl: `http://127.0.0.1:${local.port}/api/v1`,
    where: `pod ${namespace}/${pod} on node ${node} (port-forward to port ${port})`,
    failure: () => failure,
    close: () => new Promise<void>((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    }),
  };
}

/** Reaches the agent: `--agent-url` as given, else a port-forward to the agent pod on the node. */
export async function connectAgent(opts: AgentLocator): Promise<AgentConnection> {
  if (opts.agentUrl !== undefined) {
    return { baseUrl: apiBase(opts.agentUrl), where: opts.agentUrl, close: async () => undefined };
  }
  return portForwardToAgent(opts);
}

/** GETs one API path; the agent's `{ error }` becomes the error line as it wrote it. */
export async function getJson(agent: AgentConnection, path: string, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${agent.baseUrl}${path}`, { signal: timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : null, headers: { accept: 'application/json' } });
  } catch (err) {
    throw new AgentApiError(`cannot connect to the Temper agent at ${agent.where}: ${agent.failure?.() ?? describeCause(err)}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AgentApiError(`unexpected answer from ${agent.where}${path === '' ? '' : ` (GET /api/v1${path})`}: HTTP ${res.status}, not JSON; is this the Temper agent's HTTP port?`);
  }
  if (!res.ok) {
    const error = (body as { error?: unknown } | null)?.error;
    throw new AgentApiError(typeof error === 'string' ? error : `the agent at ${agent.where} answered HTTP ${res.status}`);
  }
  return body;
}

// ---- output ------------------------------------------------------------------------------

function header(status: StatusBody, g: GenerationBody): string {
  const current = status.generation !== null && status.generation !== g.number ? ` (current: ${status.generation})` : '';
  return `node: ${status.node}  generation: ${g.number}${current}  sha256: ${g.sha256.slice(0, 12)}  created: ${g.createdAt}  state: ${status.state}\n`;
}

const shortJson = (v: unknown): string => {
  const text = JSON.stringify(v) ?? 'null';
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

/** The per-layer change summary and tier moves, then the unified diff. */
export function formatDiff(node: string, d: DiffBody): string {
  const lines = [`node: ${node}  diff: generation ${d.from} → ${d.to}`];
  if (d.layers.length === 0 && d.moves.length === 0) {
    lines.push(`no changes: generations ${d.from} and ${d.to} have the same config`);
    return `${lines.join('\n')}\n`;
  }
  if (d.layers.length > 0) {
    lines.push('layers:');
    const width = Math.max(...d.layers.map((l) => l.layer.length));
    for (const l of d.layers) {
      const fields = l.fields.map((f) => `${f.path} ${shortJson(f.before)} → ${shortJson(f.after)}`).join('; ');
      lines.push(`  ${l.layer.padEnd(width)}  ${l.change}${fields === '' ? '' : `: ${fields}`}`);
    }
  }
  if (d.moves.length > 0) {
    lines.push('tier moves:');
    const names = d.moves.map((m) => `${m.namespace}/${m.name}`);
    const width = Math.max(...names.map((n) => n.length));
    d.moves.forEach((m, i) => lines.push(`  ${(names[i] ?? '').padEnd(width)}  ${m.from ?? '(new)'} → ${m.to ?? '(gone)'}`));
  }
  return `${lines.join('\n')}\n${d.text === '' ? '' : `\n${d.text}`}`;
}

function raw(body: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : stringify(body);
}

const STATUS_SHAPE: Shape = { node: 'string', state: 'string', generation: 'number|null' };
const GENERATION_SHAPE: Shape = { number: 'number', createdAt: 'string', sha256: 'string', configJson: 'string' };
const DIFF_SHAPE: Shape = { from: 'number', to: 'number', layers: 'array', moves: 'array', text: 'string' };

async function showConfig(opts: ConfigOptions): Promise<string> {
  const timeoutMs = parseTimeout(opts.requestTimeout);
  const agent = await connectAgent(opts);
  try {
    const get = (path: string): Promise<unknown> => getJson(agent, path, timeoutMs);
    const path = opts.diff !== undefined
      ? `/diff?from=${opts.diff.from}&to=${opts.diff.to}`
      : opts.generation !== undefined ? `/generations/${opts.generation}` : '/config';
    const body = await get(path);
    if (opts.output !== undefined) return raw(body, opts.output);
    const status = checkShape<StatusBody>(await get('/status'), STATUS_SHAPE, 'status', agent.where);
    if (opts.diff !== undefined) return formatDiff(status.node, checkShape<DiffBody>(body, DIFF_SHAPE, 'diff', agent.where));
    const g = checkShape<GenerationBody>(body, GENERATION_SHAPE, 'generation', agent.where);
    return `${header(status, g)}${g.configJson}`;
  } finally {
    await agent.close();
  }
}

/** Adds `config` to the kubectl-temper program. */
export function registerConfigCommand(program: Command, io: CliIo): void {
  program.command('config')
    .description('show the scx_layered config the Temper agent enforces on a node: the current one, a kept generation, or a diff')
    .option('--node <name>', 'the node whose agent to ask (default: the only node of a one-node cluster)')
    .addOption(new Option('--generation <n>', 'show this kept generation instead of the current one').argParser(parseGenerationArg))
    .addOption(new Option('--diff <A..B>', 'show what changed from generation A to B').argParser(parseRangeArg).conflicts('generation'))
    .addOption(new Option('-o, --output <format>', 'print the agent API\'s JSON (or YAML) instead of the text view').choices(['json', 'yaml']))
    .option('--agent-url <url>', 'reach the agent\'s HTTP API here (e.g. http://127.0.0.1:8080) instead of port-forwarding to its pod')
    .addOption(new Option('--agent-port <port>', 'the agent pod\'s HTTP port').argParser(parsePortArg).default(DEFAULT_AGENT_PORT))
    .option('--config <file>', 'Temper configuration file (TOML); its naming.namespace is where the agent runs')
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('--request-timeout <duration>', 'give up on a request after this long (0: never; e.g. 5s, 1m)', '0')
    .action(async (opts: ConfigOptions) => {
      io.stdout(await showConfig(opts));
    });
}
