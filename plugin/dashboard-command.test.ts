// `kubectl temper dashboard --agent-url` against the agent's real HTTP app (agent/http.ts: the
// dashboard files and the JSON API with its event stream) started in-process over a generation
// store. The port-forward path needs a kubelet and is not exercised here (see portForwardToAgent).
import { createServer, get } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../agent/agent.ts';
import { GenerationStore } from '../agent/generations.ts';
import { DASHBOARD_CSP, agentApp } from '../agent/http.ts';
import type { AgentStatus } from '../agent/views.ts';
import { threePlans } from '../test/builders.ts';
import { main } from './cli.ts';
import type { RunningDashboard } from './dashboard-command.ts';
import { startDashboard } from './dashboard-command.ts';

const { plans, at } = threePlans();
const status: AgentStatus = { node: 'worker-1', state: 'enforcing', message: 'scx_layered running', generation: null, sha256: null, warnings: [] };
const store = new GenerationStore();
let agentServer: Server;
let agentUrl = '';

/** The parts of the node agent its HTTP app reads, over a store the test fills. */
function fakeAgent(): Agent {
  return {
    store, registry: new Registry(), status: () => ({ ...status, generation: store.current()?.number ?? null, sha256: store.current()?.sha256 ?? null }),
    ready: () => store.current() !== null, onStatus: () => () => undefined, pods: () => store.current()?.assignments ?? [],
  } as unknown as Agent;
}

const closeServer = (s: Server): Promise<unknown> => {
  s.closeAllConnections();
  return new Promise((ok) => s.close(ok));
};

/** Listens on a free loopback port; with `thenClose`, frees it again (nothing listens there). */
async function listen(server: Server, thenClose = true): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (thenClose) await closeServer(server);
  return url;
}

const options = (agentUrlFlag: string): Parameters<typeof startDashboard>[0] => ({ agentUrl: agentUrlFlag, agentPort: 8080, address: '127.0.0.1', port: 0 });

/** GET with an explicit Host header (fetch does not let a caller set it). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Opens an event stream and reads up to its first `status` event; `next()` says what comes after. */
async function openEvents(url: string): Promise<{ next(): Promise<'more' | 'closed'> }> {
  const reader = (await fetch(url)).body!.pipeThrough(new TextDecoderStream()).getReader();
  let seen = '';
  while (!seen.includes('event: status')) seen += (await reader.read()).value ?? '';
  return { next: () => reader.read().then((r) => (r.done ? 'closed' : 'more'), () => 'closed') };
}

beforeAll(async () => {
  store.record(plans[0]!, at(0));
  store.record(plans[1]!, at(1));
  agentServer = createServer(agentApp(fakeAgent()));
  agentUrl = await listen(agentServer, false);
});
afterAll(() => closeServer(agentServer));

describe('kubectl temper dashboard --agent-url', () => {
  let dashboard: RunningDashboard;
  beforeAll(async () => {
    dashboard = await startDashboard(options(agentUrl));
  });
  afterAll(() => dashboard.close());

  it('listens on loopback, on a free port, and names the node', () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(dashboard.url).not.toBe(`${agentUrl}/`);
    expect(dashboard.node).toBe('worker-1');
    expect(dashboard.where).toBe(agentUrl);
  });

  it('serves the agent\'s dashboard and API unchanged, with the dashboard\'s CSP', async () => {
    const page = await fetch(dashboard.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(await page.text()).toBe(await (await fetch(`${agentUrl}/`)).text());
    const viaProxy = await (await fetch(`${dashboard.url}api/v1/generations`)).text();
    expect(viaProxy).toBe(await (await fetch(`${agentUrl}/api/v1/generations`)).text());
    expect((await fetch(`${dashboard.url}api/v1/generations/99`)).status).toBe(404);
  });

  it('streams server-sent events through as they happen', async () => {
    const abort = new AbortController();
    const res = await fetch(`${dashboard.url}api/v1/events`, { signal: abort.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    const until = async (text: string): Promise<void> => {
      while (!seen.includes(text)) seen += (await reader.read()).value ?? '';
    };
    await until('event: status');
    store.record(plans[2]!, at(2)); // generation 3, while the stream is open
    await until('event: generation');
    expect(seen).toContain('"number":3');
    abort.abort();
  });

  it('is read-only and answers only to loopback host names', async () => {
    const post = await fetch(`${dashboard.url}api/v1/status`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await getWithHost(dashboard.url, 'localhost:1234')).status).toBe(200);
    const rebound = await getWithHost(dashboard.url, 'attacker.example:80');
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error).toContain('attacker.example');
  });
});

describe('kubectl temper dashboard: reaching the agent', () => {
  it('accepts the agent URL with or without /api/v1 and a path prefix', async () => {
    const d = await startDashboard(options(`${agentUrl}/api/v1`));
    try {
      expect((await fetch(`${d.url}api/v1/status`)).status).toBe(200);
      expect((await fetch(d.url)).headers.get('content-type')).toContain('text/html');
    } finally {
      await d.close();
    }
  });

  it('fails with one line when nothing listens at --agent-url', async () => {
    const url = await listen(createServer()); // a port that was just free
    let err = '';
    const code = await main(['dashboard', '--agent-url', url], { stdout: () => undefined, stderr: (t) => { err += t; } });
    expect(code).toBe(1);
    expect(err).toBe(`error: cannot connect to the Temper agent at ${url}: ECONNREFUSED\n`);
  });

  it('answers 502 with the reason, and reports it once, when the agent goes away later', async () => {
    const server = createServer(agentApp(fakeAgent()));
    const url = await listen(server, false);
    const reports: string[] = [];
    const d = await startDashboard(options(url), (line) => reports.push(line));
    try {
      await closeServer(server);
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${d.url}api/v1/status`);
        expect(res.status).toBe(502);
        expect((await res.json() as { error: string }).error).toMatch(new RegExp(`^cannot reach the Temper agent at ${url}: .*ECONNREFUSED`));
      }
      expect(reports).toHaveLength(1);
    } finally {
      await d.close();
    }
  });

  it('ends a proxied event stream when the agent stops, without calling it an error', async () => {
    const server = createServer(agentApp(fakeAgent()));
    const url = await listen(server, false);
    const reports: string[] = [];
    const d = await startDashboard(options(url), (line) => reports.push(line));
    try {
      const stream = await openEvents(`${d.url}api/v1/events`);
      await closeServer(server); // the agent stops with the stream open
      expect(await stream.next()).toBe('closed'); // so the browser's EventSource reconnects
      expect(reports).toEqual([]);
    } finally {
      await d.close();
    }
  });

  it('closes (Ctrl-C) with event streams open, quietly', async () => {
    const reports: string[] = [];
    const d = await startDashboard(options(agentUrl), (line) => reports.push(line));
    const stream = await openEvents(`${d.url}api/v1/events`);
    await d.close();
    expect(await stream.next()).toBe('closed');
    expect(reports).toEqual([]);
  });

  it('rejects a bad --port as a usage error', async () => {
    let err = '';
    const code = await main(['dashboard', '--agent-url', agentUrl, '--port', '70000'], { stdout: () => undefined, stderr: (t) => { err += t; } });
    expect(code).toBe(2);
    expect(err).toContain('want a TCP port (0–65535; 0 picks a free one)');
  });
});
