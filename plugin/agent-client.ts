/**
 * The client of a node agent's HTTP API (agent/api.ts), shared by `kubectl temper config` and
 * `kubectl temper dashboard`: the agent is reached at `--agent-url`, or through a port-forward
 * to the agent pod on the node, opened and closed here.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { PortForward } from '@kubernetes/client-node';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { LABELS } from '../core/names.ts';
import type { ClusterFlags } from './live.ts';
import { ClusterError, clusterCall, connect } from './live.ts';
import { readPolicy } from './manifests.ts';

export const DEFAULT_AGENT_PORT = 8080;

/** The agent could not be found, reached, or gave no usable answer: one line, exit 1. */
export class AgentApiError extends ClusterError {
  override name = 'AgentApiError';
}

/** How to reach a node's agent: `--agent-url`, or the agent pod on `--node`. */
export interface AgentLocator extends ClusterFlags {
  node?: string;
  agentUrl?: string;
  agentPort: number;
  config?: string;
}

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
  throw new AgentApiError(`no Temper agent pod on node ${node} (namespace ${namespace}, label ${LABELS.agentSelector}): is Temper installed there?`);
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
  const cluster = connect(opts);
  const namespace = readPolicy(opts.config).naming.namespace;
  const node = opts.node ?? onlyNodeName((await clusterCall(cluster, 'list nodes', () => cluster.core.listNode())).items);
  const pods = await clusterCall(cluster, `list agent pods in namespace ${namespace}`, () => cluster.core.listNamespacedPod({
    namespace, labelSelector: LABELS.agentSelector, fieldSelector: `spec.nodeName=${node}`,
  }));
  const pod = agentPodName(pods.items, node, namespace);
  const port = opts.agentPort;
  const forward = new PortForward(cluster.kc);
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
