/**
 * The agent's read-only HTTP API, mounted by its HTTP server under /api/v1: the same views as
 * the gRPC service (agent/views.ts) as camelCase JSON, plus server-sent events for the dashboard.
 * `kubectl temper config` reads it through a port-forward.
 *
 *   GET /status                 the agent's state on its node
 *   GET /config                 the current generation (503 before the first)
 *   GET /generations            summaries of the kept generations, oldest first
 *   GET /generations/:n         one generation (404 when not kept, 400 for a bad number)
 *   GET /diff?from=A&to=B       what changed from A to B
 *   GET /pods                   every pod on the node: its tier assignment row and its workload profile
 *   GET /events                 text/event-stream: `status` (first, then on each change) and `generation` events
 *
 * Errors are `{ "error": "<one line>" }` with status 400, 404, 405 or 503.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import type { GenerationStore } from './generations.ts';
import type { AgentStatus, Lookup, LookupFailure, PodRowView } from './views.ts';
import { currentGeneration, diffView, findDiff, findGeneration, generationView, parseGenerationNumber, statusView, summaryView } from './views.ts';

export interface ApiOptions {
  readonly store: GenerationStore;
  readonly status: () => AgentStatus;
  /** Subscribes to status changes (returns the unsubscribe function); without it, /events sends only the initial status. */
  readonly onStatus?: (listener: (status: AgentStatus) => void) => () => void;
  /** SSE keep-alive comment interval; proxies drop idle streams. */
  readonly heartbeatMs?: number;
  /**
   * Every pod on the node now, including those no layer matches (a node-critical pod changes no
   * config bytes, so no generation shows it). Without it, /pods lists the current generation's.
   */
  readonly pods?: () => readonly PodRowView[];
}

const HTTP_STATUS: Readonly<Record<LookupFailure['kind'], number>> = { invalid: 400, 'not-found': 404, unavailable: 503 };

/** Two-space JSON with a trailing newline, like every other JSON Temper prints. */
function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/json').send(`${JSON.stringify(body, null, 2)}\n`);
}

function sendLookup<T>(res: Response, result: Lookup<T>, render: (value: T) => unknown): void {
  if (result.ok) sendJson(res, 200, render(result.value));
  else sendJson(res, HTTP_STATUS[result.failure.kind], { error: result.failure.message });
}

/** A query parameter as one string; repeated (`?from=1&from=2`) or nested values are not one. */
function queryParam(req: Request, name: string): string | undefined | null {
  const value: unknown = req.query[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}

function generationParam(req: Request, name: string): Lookup<number> {
  const text = queryParam(req, name);
  if (text === null) return { ok: false, failure: { kind: 'invalid', message: `${name}: give the query parameter once` } };
  return parseGenerationNumber(text, name);
}

/** Writes one server-sent event; `data` is compact JSON on one line. */
function sendEvent(res: Response, event: string, data: unknown, id?: number): void {
  res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function apiRouter(options: ApiOptions): Router {
  const { store, status } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const router = Router();

  router.get('/status', (_req, res) => sendJson(res, 200, statusView(status())));

  router.get('/config', (_req, res) => sendLookup(res, currentGeneration(store), generationView));

  router.get('/generations', (_req, res) => sendJson(res, 200, store.list().map(summaryView)));

  router.get('/generations/:n', (req, res) => {
    const n = parseGenerationNumber(req.params.n, 'generation');
    sendLookup(res, n.ok ? findGeneration(store, n.value) : n, generationView);
  });

  router.get('/diff', (req, res) => {
    const from = generationParam(req, 'from');
    const to = generationParam(req, 'to');
    if (!from.ok) return sendLookup(res, from, () => null);
    if (!to.ok) return sendLookup(res, to, () => null);
    sendLookup(res, findDiff(store, from.value, to.value), diffView);
  });

  router.get('/pods', (_req, res) => {
    const live = options.pods;
    if (live !== undefined && store.current() !== null) sendJson(res, 200, live());
    else sendLookup(res, currentGeneration(store), (g) => generationView(g).assignments.map((r): PodRowView => ({ ...r, profile: null })));
  });

  router.get('/events', (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The client's state right away, then changes; a generation event carries the summary, and
    // the full generation is at /generations/<number>.
    sendEvent(res, 'status', statusView(status()));
    const unsubscribeGenerations = store.subscribe((g) => sendEvent(res, 'generation', summaryView(g), g.number));
    const unsubscribeStatus = options.onStatus?.((s) => sendEvent(res, 'status', statusView(s))) ?? ((): void => undefined);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribeGenerations();
      unsubscribeStatus();
    });
  });

  const ENDPOINTS = /^\/(status|config|generations(\/[^/]+)?|diff|pods|events)\/?$/;
  router.use((req, res) => {
    if (ENDPOINTS.test(req.path)) {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: `${req.method} ${req.baseUrl}${req.path}: the agent API is read-only (GET only)` });
    } else {
      sendJson(res, 404, { error: `no such endpoint: ${req.baseUrl}${req.path}` });
    }
  });

  return router;
}
