/**
 * The scheduler extender over HTTP (express): kube-scheduler POSTs ExtenderArgs to
 * `<prefix>/filter` and `<prefix>/prioritize` (docs/scheduling.md) and gets
 * ExtenderFilterResult / HostPriorityList back, in the Go field names the scheduler's
 * extender/v1 types use on the wire. Also /healthz, /readyz and Prometheus /metrics. A request
 * it cannot read gets HTTP 400 with the reason, never a crash and never a silent empty answer.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../adapters/log.ts';
import { InputError, isRecord } from '../core/errors.ts';
import { podFromObject } from '../core/objects.ts';
import type { CandidateNode, PlacementSettings } from '../core/placement.ts';
import { NEUTRAL_SCORE, filterNode, scoreNode } from '../core/placement.ts';
import type { PodInfo } from '../core/types.ts';
import type { Classified, ClusterView } from './cluster.ts';
import type { Placements } from './placements.ts';

/** The path prefix of the verbs (the scheduler config's `urlPrefix` ends with it). */
export const URL_PREFIX = '/temper/v1';
/** Largest request accepted: full NodeLists (nodeCacheCapable off) of a few thousand nodes fit. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A request the extender cannot read; answered with HTTP 400 and this message. */
export class BadExtenderRequest extends Error {
  override name = 'BadExtenderRequest';
}

/** ExtenderArgs, validated: the pod and the candidate node names, and whether full Nodes came. */
export interface ExtenderArgs {
  readonly podObject: Record<string, unknown>;
  readonly pod: PodInfo;
  readonly nodeNames: readonly string[];
  /** The Node objects by name when the scheduler sent full Nodes (nodeCacheCapable: false). */
  readonly nodes: ReadonlyMap<string, unknown> | null;
}

/** Validates an ExtenderArgs body (`{Pod, Nodes, NodeNames}`). */
export function parseExtenderArgs(body: unknown): ExtenderArgs {
  if (!isRecord(body)) throw new BadExtenderRequest('request body must be a JSON object (ExtenderArgs)');
  if (!isRecord(body.Pod)) throw new BadExtenderRequest('Pod is required (a v1 Pod object)');
  let pod: PodInfo;
  try {
    pod = podFromObject(body.Pod, 'Pod');
  } catch (err) {
    if (err instanceof InputError) throw new BadExtenderRequest(err.lines.join('; '));
    throw err;
  }
  const names = body.NodeNames;
  if (names !== undefined && names !== null) {
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n !== '')) {
      throw new BadExtenderRequest('NodeNames must be an array of node names');
    }
    return { podObject: body.Pod, pod, nodeNames: names as string[], nodes: null };
  }
  const nodes = body.Nodes;
  if (isRecord(nodes) && Array.isArray(nodes.items)) {
    const byName = new Map<string, unknown>();
    for (const [i, n] of nodes.items.entries()) {
      const name = isRecord(n) && isRecord(n.metadata) ? n.metadata.name : undefined;
      if (typeof name !== 'string' || name === '') throw new BadExtenderRequest(`Nodes.items[${i}].metadata.name is required`);
      byName.set(name, n);
    }
    return { podObject: body.Pod, pod, nodeNames: [...byName.keys()], nodes: byName };
  }
  throw new BadExtenderRequest('NodeNames (nodeCacheCapable: true) or Nodes.items is required');
}

export interface ExtenderDeps {
  readonly view: ClusterView;
  readonly placements: Placements;
  readonly settings: PlacementSettings;
  readonly ready: () => boolean;
  readonly log: Logger;
  readonly registry?: Registry;
}

type Verb = 'filter' | 'prioritize';

/** Builds the express app; exported apart from the listener so tests and benchmarks can drive it. */
export function extenderApp(deps: ExtenderDeps): { app: express.Express; registry: Registry } {
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'temper_scheduler_', eventLoopMonitoringPrecision: 100 });
  const r = [registry];
  const requests = new Counter({ name: 'temper_scheduler_requests_total', help: 'Extender requests by verb and outcome', labelNames: ['verb', 'outcome'], registers: r });
  const latency = new Histogram({
    name: 'temper_scheduler_request_duration_seconds', help: 'Time to answer an extender request', labelNames: ['verb'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: r,
  });
  const verdicts = new Counter({ name: 'temper_scheduler_filter_verdicts_total', help: 'Filter verdicts per node, by the pod\'s tier', labelNames: ['tier', 'verdict'], registers: r });
  new Gauge({
    name: 'temper_scheduler_nodes', help: 'Watched nodes by their qos-distribution annotation: ok, absent (no agent), unreadable', labelNames: ['report'], registers: r,
    collect() { for (const [k, v] of Object.entries(deps.view.reportCounts())) this.set({ report: k }, v); },
  });
  new Gauge({ name: 'temper_scheduler_pods_placed_not_bound', help: 'Pods the extender passed that it has not yet seen bound (the margin)', registers: r, collect() { this.set(deps.placements.size); } });
  new Gauge({ name: 'temper_scheduler_pods_not_understood', help: 'Watched pods core could not parse (left out of demand)', registers: r, collect() { this.set(deps.view.stats.podsNotUnderstood); } });
  for (const verb of ['filter', 'prioritize'] as const) for (const outcome of ['ok', 'invalid', 'error']) requests.inc({ verb, outcome }, 0);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.get('/healthz', (_req, res) => { res.type('text/plain').send('ok\n'); });
  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.type('text/plain').send('ok\n');
    else res.status(503).type('text/plain').send('node and pod caches not synced\n');
  });
  app.get('/metrics', async (_req, res) => { res.type(registry.contentType).send(await registry.metrics()); });

  const json = express.json({ limit: MAX_BODY_BYTES, type: () => true });
  const handle = (verb: Verb, answer: (args: ExtenderArgs, pod: Classified | null) => unknown) => (req: Request, res: Response): void => {
    const started = process.hrtime.bigint();
    let args: ExtenderArgs;
    try {
      args = parseExtenderArgs(req.body);
    } catch (err) {
      if (!(err instanceof BadExtenderRequest)) throw err;
      requests.inc({ verb, outcome: 'invalid' });
      deps.log.warn('bad extender request', { verb, error: err.message });
      res.status(400).json({ error: err.message });
      return;
    }
    const body = answer(args, deps.view.classify(args.pod));
    requests.inc({ verb, outcome: 'ok' });
    latency.observe({ verb }, Number(process.hrtime.bigint() - started) / 1e9);
    res.json(body);
  };

  app.post(`${URL_PREFIX}/filter`, json, handle('filter', (args, pod) => {
    const passing: string[] = [];
    const failed: Record<string, string> = {};
    const unresolvable: Record<string, string> = {};
    // A pod core cannot classify (an unresolvable class) is not Temper's to judge: every node passes.
    if (pod === null) passing.push(...args.nodeNames);
    else {
      const margin = deps.placements.marginsFor(args.pod.uid, 'filter');
      for (const name of args.nodeNames) {
        const v = filterNode(deps.settings, pod, deps.view.candidate(name, margin(name)));
        if (v.fits) passing.push(name);
        else (v.unresolvable ? unresolvable : failed)[name] = v.reason;
        verdicts.inc({ tier: pod.tier, verdict: v.fits ? 'fits' : v.unresolvable ? 'unresolvable' : 'refused' });
      }
      if (pod.tier !== 'system' && args.pod.uid !== '') deps.placements.passed(args.pod.uid, pod.tier, pod.requestMillis, passing);
      if (passing.length === 0 && args.nodeNames.length > 0) {
        deps.log.info('pod fits on no candidate node', { pod: `${args.pod.namespace}/${args.pod.name}`, tier: pod.tier, nodes: args.nodeNames.length, example: Object.values({ ...unresolvable, ...failed })[0] ?? null });
      }
    }
    return {
      Nodes: args.nodes === null ? null : { metadata: {}, items: passing.map((n) => args.nodes?.get(n)) },
      NodeNames: args.nodes === null ? passing : null,
      FailedNodes: failed,
      FailedAndUnresolvableNodes: unresolvable,
      Error: '',
    };
  }));

  app.post(`${URL_PREFIX}/prioritize`, json, handle('prioritize', (args, pod) => {
    const margin = deps.placements.marginsFor(args.pod.uid, 'score');
    const scored = args.nodeNames.map((name) => {
      const node: CandidateNode = deps.view.candidate(name, margin(name));
      return { Host: name, Score: pod === null ? NEUTRAL_SCORE : scoreNode(deps.settings, pod, node) };
    });
    let best: { Host: string; Score: number } | undefined;
    for (const s of scored) if (best === undefined || s.Score > best.Score) best = s;
    if (best !== undefined && args.pod.uid !== '') deps.placements.prioritized(args.pod.uid, best.Host);
    return scored;
  }));

  // Body-parser errors (not JSON, too large) are the client's fault: 400 with a clear message.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string; message?: string; status?: number };
    const verb = req.path.endsWith('/prioritize') ? 'prioritize' : 'filter';
    if (e.type === 'entity.too.large') {
      requests.inc({ verb, outcome: 'invalid' });
      res.status(400).json({ error: `request body exceeds ${MAX_BODY_BYTES} bytes` });
    } else if (e.type === 'entity.parse.failed') {
      requests.inc({ verb, outcome: 'invalid' });
      res.status(400).json({ error: `request body is not JSON: ${e.message ?? ''}` });
    } else if (e.status !== undefined && e.status >= 400 && e.status < 500) {
      requests.inc({ verb, outcome: 'invalid' });
      res.status(400).json({ error: e.message ?? 'bad request' });
    } else {
      requests.inc({ verb, outcome: 'error' });
      deps.log.error('extender handler failed', { error: String(err) });
      if (res.headersSent) next(err);
      else res.status(500).json({ error: 'internal error' });
    }
  });
  return { app, registry };
}

export interface RunningExtender {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves the app over plain HTTP on host:port (port 0 picks one); the scheduler reaches it on loopback. */
export async function listenExtender(deps: ExtenderDeps, host: string, port: number): Promise<RunningExtender> {
  const { app } = extenderApp(deps);
  const server = createServer(app);
  server.keepAliveTimeout = 90_000;
  server.headersTimeout = 95_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}
