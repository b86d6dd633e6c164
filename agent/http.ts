/** The agent's HTTP server: health, Prometheus metrics, the read-only JSON API (/api/v1) and the dashboard (/). */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { isLoopback, isLoopbackHostHeader } from '../adapters/loopback.ts';
import type { Agent } from './agent.ts';
import { apiRouter } from './api.ts';

export interface RunningHttp {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** The dashboard's static files (agent/dashboard: plain HTML, CSS and ES modules, no build step). */
const DASHBOARD_DIR = join(import.meta.dirname, 'dashboard');
/** Same-origin scripts, styles, images and API calls only: no inline code, no third parties, no framing. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The agent's HTTP app. With `loopbackOnly` (the default bind), requests whose Host header does
 * not name a loopback address get 403 (DNS rebinding, see adapters/loopback.ts).
 */
export function agentApp(agent: Agent, options: { loopbackOnly?: boolean } = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (options.loopbackOnly ?? true) {
    app.use((req, res, next) => {
      if (isLoopbackHostHeader(req.headers.host)) next();
      else res.status(403).type('text/plain').send('forbidden: the agent answers only requests addressed to a loopback host\n');
    });
  }
  app.get('/healthz', (_req, res) => { res.type('text/plain').send('ok\n'); });
  app.get('/readyz', (_req, res) => {
    const s = agent.status();
    if (agent.ready()) res.type('text/plain').send(`ok: ${s.state}\n`);
    else res.status(503).type('text/plain').send(`not ready: ${s.message}\n`);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(agent.registry.contentType).send(await agent.registry.metrics());
  });
  app.use('/api/v1', apiRouter({ store: agent.store, status: () => agent.status(), onStatus: (l) => agent.onStatus(l), pods: () => agent.pods() }));
  app.use(express.static(DASHBOARD_DIR, {
    index: 'index.html',
    setHeaders: (res) => {
      res.setHeader('content-security-policy', DASHBOARD_CSP);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('cache-control', 'no-cache'); // revalidate: an upgraded agent serves new files
    },
  }));
  return app;
}

/** A listening server's URL and a close that also ends open connections (SSE streams never end on their own). */
function runningHttp(server: Server, host: string): RunningHttp {
  const { port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Listens on host:port (loopback by default: the dashboard and API are read-only but private). */
export async function listenHttp(agent: Agent, host: string, port: number): Promise<RunningHttp> {
  const app = agentApp(agent, { loopbackOnly: isLoopback(host) });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err === undefined ? resolve(s) : reject(err)));
  });
  return runningHttp(server, host);
}

/**
 * The kubelet's probes only: GET /healthz and /readyz, on the pod's address, nothing else (no
 * pod names, no metrics, no dashboard). With it the agent needs no host network: the API stays
 * on the pod's loopback, reached only through an explicit port-forward (docs/security.md).
 */
export async function listenProbes(agent: Agent, host: string, port: number): Promise<RunningHttp> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    const reply = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') reply(405, 'method not allowed\n');
    else if (path === '/healthz') reply(200, 'ok\n');
    else if (path === '/readyz') {
      // The state name only; the status message can name pods.
      const ready = agent.ready();
      reply(ready ? 200 : 503, `${ready ? 'ok' : 'not ready'}: ${agent.status().state}\n`);
    } else reply(404, 'not found: this port serves /healthz and /readyz only\n');
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return runningHttp(server, host);
}
