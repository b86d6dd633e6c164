/** The agent's HTTP server: health, Prometheus metrics and the read-only JSON API (/api/v1). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Agent } from './agent.ts';
import { apiRouter } from './api.ts';

export interface RunningHttp {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export function agentApp(agent: Agent): express.Express {
  const app = express();
  app.disable('x-powered-by');
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
  return app;
}

/** Listens on host:port (loopback by default: the dashboard and API are read-only but private). */
export async function listenHttp(agent: Agent, host: string, port: number): Promise<RunningHttp> {
  const app = agentApp(agent);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err === undefined ? resolve(s) : reject(err)));
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // SSE streams never end on their own
    }),
  };
}
