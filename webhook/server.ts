/**
 * The mutating admission webhook over HTTPS (express): POST /mutate defaults priorityClassName
 * (with priority and preemptionPolicy) for pods created without one; /healthz, /readyz and
 * Prometheus /metrics; graceful shutdown.
 */
import type { Server } from 'node:https';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClassCatalog } from '../core/admission.ts';
import { decideDefault, schedulerNameFor } from '../core/admission.ts';
import type { Policy } from '../core/config.ts';
import { InputError, isRecord } from '../core/errors.ts';
import { podFromObject } from '../core/objects.ts';
import type { Logger } from '../adapters/log.ts';
import { BadReviewError, allowResponse, parseReview, withClassFields, withSchedulerName } from './review.ts';

/** Largest AdmissionReview accepted; the API server itself caps request bodies at 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface WebhookDeps {
  readonly policy: Policy;
  readonly catalog: ClassCatalog;
  readonly ready: () => boolean;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Set `spec.schedulerName` of Critical pods to this scheduler (docs/scheduling.md); null: never. */
  readonly criticalSchedulerName?: string | null;
}

export type Outcome = 'mutated' | 'unchanged' | 'warned' | 'invalid' | 'error';

/** Builds the express app; exported separately from the listener so tests can drive it. */
export function webhookApp(deps: WebhookDeps): { app: express.Express; registry: Registry } {
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'temper_webhook_' });
  const admissions = new Counter({ name: 'temper_webhook_admissions_total', help: 'Admission requests by outcome', labelNames: ['outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'temper_webhook_admission_duration_seconds', help: 'Time to answer an admission request', labelNames: ['outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
  });
  for (const o of ['mutated', 'unchanged', 'warned', 'invalid', 'error'] as const) admissions.inc({ outcome: o }, 0);

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => { res.type('text/plain').send('ok\n'); });
  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.type('text/plain').send('ok\n');
    else res.status(503).type('text/plain').send('priorityclass cache not synced\n');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  app.post('/mutate', express.json({ limit: MAX_BODY_BYTES, type: () => true }), (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const finish = (outcome: Outcome, status: number, body: unknown): void => {
      admissions.inc({ outcome });
      latency.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
      res.status(status).json(body);
    };
    let review;
    try {
      review = parseReview(req.body);
    } catch (err) {
      if (!(err instanceof BadReviewError)) throw err;
      deps.log.warn('bad admission review', { error: err.message });
      finish('invalid', 400, { error: err.message });
      return;
    }
    if (review.operation !== 'CREATE' || review.kind !== 'Pod' || review.group !== '' || review.subResource !== null || review.object === null) {
      finish('unchanged', 200, allowResponse(review.uid, null, null));
      return;
    }
    // At admission the API server has not yet assigned name (generateName) or uid; the pod's
    // namespace comes from the request.
    const view = structuredClone(review.object);
    const meta = isRecord(view.metadata) ? view.metadata : {};
    view.metadata = { ...meta, namespace: review.namespace || meta.namespace, name: meta.name ?? `${String(meta.generateName ?? 'pod-')}(generated)` };
    let pod;
    try {
      pod = podFromObject(view, `pod ${review.namespace}/${String(meta.name ?? meta.generateName ?? '')}`);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      // Never block a pod over a webhook parsing problem: admit it unchanged and say why.
      deps.log.warn('pod not understood; admitted unchanged', { uid: review.uid, error: err.message });
      finish('warned', 200, allowResponse(review.uid, null, null, [`temper: pod not defaulted: ${err.lines[0] ?? err.message}`]));
      return;
    }
    const decision = decideDefault(deps.policy, pod, deps.catalog, { replaceGlobalDefault: deps.policy.webhook.replaceGlobalDefault });
    const spec = isRecord(review.object.spec) ? review.object.spec : {};
    // A pod the webhook defaults gets a default tier (Normal or Background), never Critical.
    const scheduler = decision.action === 'set' ? null : schedulerNameFor(deps.policy, pod, typeof spec.schedulerName === 'string' ? spec.schedulerName : null, deps.criticalSchedulerName ?? null);
    if (scheduler !== null) {
      deps.log.info('critical pod sent to the temper scheduler', { uid: review.uid, namespace: pod.namespace, pod: pod.name, schedulerName: scheduler });
      finish('mutated', 200, allowResponse(review.uid, review.object, withSchedulerName(review.object, scheduler)));
    } else if (decision.action === 'set') {
      deps.log.info('pod defaulted', { uid: review.uid, namespace: pod.namespace, pod: pod.name, priorityClassName: decision.fields.priorityClassName, tier: decision.tier, qosClass: decision.qosClass });
      finish('mutated', 200, allowResponse(review.uid, review.object, withClassFields(review.object, decision.fields)));
    } else if (decision.action === 'warn') {
      deps.log.warn('pod not defaulted', { uid: review.uid, namespace: pod.namespace, pod: pod.name, reason: decision.reason });
      finish('warned', 200, allowResponse(review.uid, null, null, [decision.warning]));
    } else {
      finish('unchanged', 200, allowResponse(review.uid, null, null));
    }
  });

  // Body-parser errors (not JSON, too large) are the client's fault: 400 with a clear message.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string; message?: string; status?: number };
    if (e.type === 'entity.too.large') {
      admissions.inc({ outcome: 'invalid' });
      res.status(400).json({ error: `request body exceeds ${MAX_BODY_BYTES} bytes` });
    } else if (e.type === 'entity.parse.failed') {
      admissions.inc({ outcome: 'invalid' });
      res.status(400).json({ error: `request body is not JSON: ${e.message ?? ''}` });
    } else if (e.status !== undefined && e.status >= 400 && e.status < 500) {
      admissions.inc({ outcome: 'invalid' });
      res.status(400).json({ error: e.message ?? 'bad request' });
    } else {
      admissions.inc({ outcome: 'error' });
      deps.log.error('admission handler failed', { error: String(err) });
      if (res.headersSent) next(err);
      else res.status(500).json({ error: 'internal error' });
    }
  });
  return { app, registry };
}

export interface RunningWebhook {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting connections and waits for in-flight requests (graceful shutdown). */
  close(): Promise<void>;
}

/** Serves the app over HTTPS on host:port (port 0 picks a free one). */
export async function listenWebhook(deps: WebhookDeps, tls: { cert: string; key: string }, host: string, port: number): Promise<RunningWebhook> {
  const { app } = webhookApp(deps);
  const server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, app);
  // The API server pools connections; keep them alive longer than its idle timeout.
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
