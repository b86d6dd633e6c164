/**
 * The mutating admission webhook over HTTPS: POST /mutate defaults priorityClassName (with
 * priority and preemptionPolicy) for pods created without one; /healthz, /readyz and Prometheus
 * /metrics; graceful shutdown; the serving certificate reloaded when its files change.
 *
 * The admission path is a plain node:https request listener that waits on nothing but memory:
 * no framework, no log line for an ordinary admission (only rate-limited warnings), metrics as
 * integer counters rendered at scrape time, and patches precomputed per class (review.ts).
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:https';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { ClassCatalog } from '../core/admission.ts';
import { decideDefault, schedulerNameFor } from '../core/admission.ts';
import type { Policy } from '../core/config.ts';
import { InputError, isRecord } from '../core/errors.ts';
import { podFromObject } from '../core/objects.ts';
import type { Logger } from '../adapters/log.ts';
import { throttledLogger } from '../adapters/log.ts';
import { AdmissionStats, OUTCOMES, type Outcome } from './stats.ts';
import { BadReviewError, allowResponseJson, parseReview } from './review.ts';
import { type ServingCertificate, watchServingCertificate } from './tls.ts';

export type { Outcome };
export { OUTCOMES };

/** Largest AdmissionReview accepted; the API server itself caps request bodies at 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** An oversized body is discarded up to this many further bytes (so the client can read the 413), then the connection is dropped. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const DRAIN_MS = 5_000;

export interface WebhookDeps {
  readonly policy: Policy;
  readonly catalog: ClassCatalog;
  readonly ready: () => boolean;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Set `spec.schedulerName` of Critical pods to this scheduler (docs/scheduling.md); null: never. */
  readonly criticalSchedulerName?: string | null;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface WebhookHandler {
  /** The node:http(s) request listener for every path. */
  readonly handle: Listener;
  /** /mutate and the probes only (the HTTPS port when metrics have their own). */
  readonly handleAdmission: Listener;
  /** /metrics and the probes only (the metrics port). */
  readonly handleMetrics: Listener;
  readonly registry: Registry;
  readonly stats: AdmissionStats;
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8' } as const;
const JSON_TYPE = { 'content-type': 'application/json' } as const;

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const errorJson = (message: string): string => JSON.stringify({ error: message });

/** Builds the request listener; exported separately from the listener so tests and benchmarks can drive it. */
export function webhookHandler(deps: WebhookDeps): WebhookHandler {
  const registry = deps.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'temper_webhook_' });
  const stats = new AdmissionStats();
  // A flood of bad requests or undefaultable pods must not turn into a flood of synchronous writes.
  const log = throttledLogger(deps.log, 10_000);
  const replaceGlobalDefault = deps.policy.webhook.replaceGlobalDefault;

  const admit = (body: Buffer): { outcome: Outcome; status: number; json: string } => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return { outcome: 'invalid', status: 400, json: errorJson(`request body is not JSON: ${err instanceof Error ? err.message : String(err)}`) };
    }
    let review;
    try {
      review = parseReview(parsed);
    } catch (err) {
      if (!(err instanceof BadReviewError)) throw err;
      log.warn('bad admission review', { error: err.message });
      return { outcome: 'invalid', status: 400, json: errorJson(err.message) };
    }
    if (review.operation !== 'CREATE' || review.kind !== 'Pod' || review.group !== '' || review.subResource !== null || review.object === null) {
      return { outcome: 'unchanged', status: 200, json: allowResponseJson(review.uid, null) };
    }
    // At admission the API server has not yet assigned name (generateName) or uid; the pod's
    // namespace comes from the request. core only reads the object, so a shallow view suffices.
    const object = review.object;
    const meta = isRecord(object.metadata) ? object.metadata : {};
    const view = { ...object, metadata: { ...meta, namespace: review.namespace || meta.namespace, name: meta.name ?? `${String(meta.generateName ?? 'pod-')}(generated)` } };
    let pod;
    try {
      pod = podFromObject(view, `pod ${review.namespace}/${String(meta.name ?? meta.generateName ?? '')}`);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      // Never block a pod over a webhook parsing problem: admit it unchanged and say why.
      log.warn('pod not understood; admitted unchanged', { uid: review.uid, error: err.message });
      return { outcome: 'warned', status: 200, json: allowResponseJson(review.uid, null, [`temper: pod not defaulted: ${err.lines[0] ?? err.message}`]) };
    }
    const decision = decideDefault(deps.policy, pod, deps.catalog, { replaceGlobalDefault });
    const spec = isRecord(object.spec) ? object.spec : {};
    // A pod the webhook defaults gets a default tier (Normal or Background), never Critical.
    const scheduler = decision.action === 'set' ? null : schedulerNameFor(deps.policy, pod, typeof spec.schedulerName === 'string' ? spec.schedulerName : null, deps.criticalSchedulerName ?? null);
    if (scheduler !== null) {
      log.info('critical pod sent to the temper scheduler', { uid: review.uid, namespace: pod.namespace, pod: pod.name, schedulerName: scheduler });
      return { outcome: 'mutated', status: 200, json: allowResponseJson(review.uid, { schedulerName: scheduler, hasSpec: isRecord(object.spec) }) };
    }
    if (decision.action === 'set') {
      // No log line per defaulted pod: the API server's audit log records the patch, the counter counts it.
      return { outcome: 'mutated', status: 200, json: allowResponseJson(review.uid, { fields: decision.fields, hasSpec: isRecord(object.spec) }) };
    }
    if (decision.action === 'warn') {
      log.warn('pod not defaulted', { uid: review.uid, namespace: pod.namespace, pod: pod.name, reason: decision.reason });
      return { outcome: 'warned', status: 200, json: allowResponseJson(review.uid, null, [decision.warning]) };
    }
    return { outcome: 'unchanged', status: 200, json: allowResponseJson(review.uid, null) };
  };

  const mutate = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    const finish = (outcome: Outcome, status: number, json: string): void => {
      stats.record(outcome, Number(process.hrtime.bigint() - started) / 1e9);
      send(res, status, JSON_TYPE, json);
    };
    const tooLarge = (): void => {
      // Answer at once, without `connection: close` (Node would end the socket under a client
      // still writing, and a reset mid-write loses the 413). Discard, not buffer, the rest of the
      // body; drop the connection past DRAIN_LIMIT_BYTES more or after DRAIN_MS.
      finish('invalid', 413, errorJson(`request body exceeds ${MAX_BODY_BYTES} bytes`));
      let discarded = 0;
      const timer = setTimeout(() => req.destroy(), DRAIN_MS);
      timer.unref();
      req.on('data', (chunk: Buffer) => { discarded += chunk.length; if (discarded > DRAIN_LIMIT_BYTES) req.destroy(); });
      req.once('close', () => clearTimeout(timer));
      req.resume();
    };
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_BODY_BYTES) { tooLarge(); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) { done = true; tooLarge(); return; }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      let answer;
      try {
        answer = admit(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size));
      } catch (err) {
        log.error('admission handler failed', { error: err instanceof Error ? err.message : String(err) });
        answer = { outcome: 'error' as const, status: 500, json: errorJson('internal error') };
      }
      finish(answer.outcome, answer.status, answer.json);
    });
    // A client that goes away mid-body (reset, or a timeout below) leaves nothing behind.
    req.on('error', () => { done = true; });
  };

  const route = (admission: boolean, metrics: boolean): Listener => (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (admission && path === '/mutate') {
      if (req.method === 'POST') { mutate(req, res); return; }
      res.setHeader('allow', 'POST');
      send(res, 405, JSON_TYPE, errorJson(`method ${req.method ?? ''} not allowed on /mutate; use POST`));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET');
      send(res, 405, TEXT, `method ${req.method ?? ''} not allowed\n`);
      return;
    }
    if (path === '/healthz') send(res, 200, TEXT, 'ok\n');
    else if (path === '/readyz') {
      if (deps.ready()) send(res, 200, TEXT, 'ok\n');
      else send(res, 503, TEXT, 'priorityclass cache not synced\n');
    } else if (metrics && path === '/metrics') {
      registry.metrics().then(
        (text) => send(res, 200, { 'content-type': registry.contentType }, `${text.endsWith('\n') ? text : `${text}\n`}${stats.render()}`),
        (err: unknown) => send(res, 500, TEXT, `metrics failed: ${String(err)}\n`),
      );
    } else send(res, 404, TEXT, `not found: ${path ?? ''}\n`);
  };
  return { handle: route(true, true), handleAdmission: route(true, false), handleMetrics: route(false, true), registry, stats };
}

export interface RunningWebhook {
  readonly server: Server;
  readonly port: number;
  /** The plain-HTTP metrics port, when metrics have their own. */
  readonly metricsPort: number | null;
  readonly certificate: ServingCertificate;
  /** Stops accepting connections and waits for in-flight requests (graceful shutdown). */
  close(): Promise<void>;
}

/** Where the serving certificate and key are read from (and re-read when they change). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

function listening(server: HttpServer | Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Serves the webhook over HTTPS on host:port (port 0 picks a free one). With `metricsPort`
 * (plain HTTP, same host), /metrics moves there and the HTTPS port serves /mutate and the probes
 * only, so a NetworkPolicy can open the two to different clients.
 */
export async function listenWebhook(deps: WebhookDeps, tls: TlsFiles, host: string, port: number, metricsPort: number | null = null): Promise<RunningWebhook> {
  const { handle, handleAdmission, handleMetrics, registry } = webhookHandler(deps);
  const certificate = watchServingCertificate(tls.certFile, tls.keyFile, deps.log, registry);
  // Timeouts are checked every second (Node's default is every 30 s, which would let a trickler
  // hold a connection four times longer than requestTimeout says).
  const server = createServer({ ...certificate.current(), minVersion: 'TLSv1.2', connectionsCheckingInterval: 1000 }, metricsPort === null ? handle : handleAdmission);
  certificate.onChange((pair) => server.setSecureContext({ ...pair, minVersion: 'TLSv1.2' }));
  // The API server pools connections; keep them alive longer than its idle timeout. A client
  // that trickles its headers or body is cut off (its timeout is 3 s; 10 s is generous).
  server.keepAliveTimeout = 90_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  const bound = await listening(server, host, port);
  const metrics = metricsPort === null ? null : createHttpServer({ connectionsCheckingInterval: 1000 }, handleMetrics);
  if (metrics !== null) metrics.requestTimeout = 10_000;
  const metricsBound = metrics === null || metricsPort === null ? null : await listening(metrics, host, metricsPort);
  const closed = (s: HttpServer | Server): Promise<void> => new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeIdleConnections();
  });
  return {
    server,
    certificate,
    port: bound,
    metricsPort: metricsBound,
    close: async () => {
      certificate.stop();
      await Promise.all([closed(server), ...(metrics === null ? [] : [closed(metrics)])]);
    },
  };
}
