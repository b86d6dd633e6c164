// The HTTP API with node's fetch against a real express app on 127.0.0.1:0.
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plan, tierRowOf } from '../core/plan.ts';
import { cgroupPolicy, node, pod, threePlans, uidOf } from '../test/builders.ts';
import { apiRouter } from './api.ts';
import { GenerationStore, KEPT_GENERATIONS } from './generations.ts';
import type { AgentStatus, DiffView, GenerationSummaryView, GenerationView, PodRowView } from './views.ts';
import { podRowView } from './views.ts';

const policy = cgroupPolicy();
const worker = node('worker-1', '8');
const { plans, at } = threePlans();

let store: GenerationStore;
let status: AgentStatus;
let statusListeners: Set<(s: AgentStatus) => void>;
let server: Server;
let base: string;

function setStatus(s: AgentStatus): void {
  status = s;
  for (const l of statusListeners) l(s);
}

beforeEach(async () => {
  store = new GenerationStore();
  status = { node: 'worker-1', state: 'starting', message: 'waiting for the first plan', generation: null, sha256: null, warnings: [] };
  statusListeners = new Set();
  const app = express();
  app.use('/api/v1', apiRouter({
    store,
    status: () => status,
    onStatus: (l) => {
      statusListeners.add(l);
      return () => statusListeners.delete(l);
    },
  }));
  server = await new Promise<Server>((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
});

const recordAll = (): void => plans.forEach((p, i) => store.record(p, at(i)));

async function get(path: string): Promise<{ status: number; body: unknown; text: string; type: string | null }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown, text, type: res.headers.get('content-type') };
}

describe('GET /api/v1', () => {
  it('/status returns the status as given', async () => {
    const r = await get('/status');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.body).toEqual(status);
    expect(r.text.endsWith('}\n')).toBe(true);
  });

  it('/config returns the current generation in camelCase with the exact config bytes', async () => {
    recordAll();
    const r = await get('/config');
    expect(r.status).toBe(200);
    const g = r.body as GenerationView;
    expect(Object.keys(g)).toEqual(['number', 'createdAt', 'sha256', 'configJson', 'assignments', 'layers', 'distribution', 'criticalDemoted', 'moves', 'warnings']);
    expect(g).toMatchObject({ number: 3, createdAt: at(2).toISOString(), sha256: plans[2]?.configSha256, configJson: plans[2]?.configJson, criticalDemoted: false });
    expect(g.assignments[1]).toEqual({ namespace: 'shop', name: 'api', uid: uidOf(1), tier: 'high', layer: 'high', priority: 100_000, qosClass: 'Burstable', reason: expect.any(String) as string, hint: null });
    expect(g.layers.find((l) => l.name === 'critical')).toMatchObject({ tier: 'critical', kind: 'Confined', cpusRange: { min: 2, max: 2 }, limitMillis: 2000 });
    expect(g.layers.find((l) => l.name === 'background')).toMatchObject({ tier: 'background', kind: 'Open', cpusRange: null, utilRange: null, limitMillis: null });
    expect(g.layers.find((l) => l.name === 'system')?.tier).toBeNull();
    expect(g.distribution).toEqual({
      critical: { pods: 1, cpuMillis: 2000, demoted: false },
      high: { pods: 1, cpuMillis: 500, demoted: false },
      normal: { pods: 0, cpuMillis: 0, demoted: false },
      low: { pods: 0, cpuMillis: 0, demoted: false },
      background: { pods: 1, cpuMillis: 0, demoted: false },
    });
    expect(g.moves).toEqual([{ namespace: 'shop', name: 'api', uid: uidOf(1), from: 'normal', to: 'high' }]);
  });

  it('/generations lists summaries oldest first', async () => {
    recordAll();
    const r = await get('/generations');
    const list = r.body as GenerationSummaryView[];
    expect(list.map((g) => [g.number, g.createdAt, g.sha256])).toEqual(plans.map((p, i) => [i + 1, at(i).toISOString(), p.configSha256]));
    expect(list[0]?.moves).toEqual([
      { namespace: 'jobs', name: 'batch', uid: uidOf(2), from: null, to: 'background' },
      { namespace: 'shop', name: 'api', uid: uidOf(1), from: null, to: 'normal' },
    ]);
  });

  it('/generations/:n returns one generation; 404 when not kept or not yet there; 400 for a bad number', async () => {
    recordAll();
    expect(((await get('/generations/2')).body as GenerationView).configJson).toBe(plans[1]?.configJson);
    expect(await get('/generations/4')).toMatchObject({ status: 404, body: { error: 'generation 4 does not exist: the newest is 3' } });
    for (const bad of ['0', 'abc', '-1', '1.5', '99999999999999999999']) {
      const r = await get(`/generations/${bad}`);
      expect(r.status, bad).toBe(400);
      expect((r.body as { error: string }).error).toMatch(/^generation: (invalid generation number)/);
    }
  });

  it('/generations/:n says a generation is no longer kept', async () => {
    const pods = Array.from({ length: KEPT_GENERATIONS + 1 }, (_, i) => pod({ name: `p${i}`, namespace: 'ns', uid: uidOf(100 + i), node: 'worker-1', qos: 'BestEffort' }));
    for (let i = 1; i <= pods.length; i++) store.record(plan(policy, worker, pods.slice(0, i)), at(i));
    expect(await get('/generations/1')).toMatchObject({ status: 404, body: { error: 'generation 1 is no longer kept: the agent keeps the last 50 (now 2–51)' } });
  });

  it('/diff returns layer changes with JSON values, moves and the unified diff', async () => {
    recordAll();
    const r = await get('/diff?from=2&to=3');
    expect(r.status).toBe(200);
    const d = r.body as DiffView;
    expect(d.from).toBe(2);
    expect(d.to).toBe(3);
    expect(d.layers.map((l) => [l.layer, l.change])).toEqual([['critical', 'changed'], ['high', 'added'], ['normal', 'removed']]);
    expect(d.layers[0]?.fields).toContainEqual({ path: 'kind.Confined.cpus_range', before: [1, 1], after: [2, 2] });
    expect(d.moves).toEqual([{ namespace: 'shop', name: 'api', uid: uidOf(1), from: 'normal', to: 'high' }]);
    expect(d.text).toBe(store.diff(2, 3)?.text);
    expect(d.text).toContain('+++ generation 3');
  });

  it('/diff: 400 for missing or bad parameters, 404 for unknown generations', async () => {
    recordAll();
    expect(await get('/diff?to=2')).toMatchObject({ status: 400, body: { error: 'from: a generation number is required' } });
    expect(await get('/diff?from=1')).toMatchObject({ status: 400, body: { error: 'to: a generation number is required' } });
    expect(await get('/diff?from=x&to=2')).toMatchObject({ status: 400, body: { error: 'from: invalid generation number "x": want a whole number ≥ 1' } });
    expect(await get('/diff?from=1&from=2&to=3')).toMatchObject({ status: 400, body: { error: 'from: give the query parameter once' } });
    expect(await get('/diff?from=1&to=9')).toMatchObject({ status: 404, body: { error: 'generation 9 does not exist: the newest is 3' } });
  });

  it('/pods returns the current assignment rows (without the agent\'s live rows, profile null)', async () => {
    recordAll();
    const r = await get('/pods');
    expect(r.body).toEqual(store.current()?.assignments.map((x) => ({ ...x, profile: null })));
  });

  it('/pods returns the agent\'s live rows, each with its profile and the threads seen in each group', async () => {
    const mysql = pod({
      name: 'db', namespace: 'shop', uid: uidOf(9), node: 'worker-1', priority: 1_000_000, qos: 'Guaranteed',
      containers: [{ name: 'mysql', image: 'mysql:8.4', resources: { requests: { cpu: '4', memory: '1Gi' }, limits: { cpu: '4', memory: '1Gi' } } }],
    });
    const p = plan(policy, worker, [mysql]);
    store.record(p, at(0));
    const live: PodRowView[] = p.pods.map((x) => podRowView(tierRowOf(x), p.profiles.selections[0], p.profiles.rendering.pods[0], new Map([['connections', [{ tid: 41, comm: 'connection' }]]])));
    const app = express();
    app.use('/api/v1', apiRouter({ store, status: () => status, pods: () => live }));
    const s = await new Promise<Server>((ok) => {
      const l = app.listen(0, '127.0.0.1', () => ok(l));
    });
    try {
      const rows = await (await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v1/pods`)).json() as PodRowView[];
      expect(rows).toEqual(live);
      expect(rows[0]?.profile).toMatchObject({ name: 'mysql-innodb', by: 'image' });
      expect(rows[0]?.profile?.groups.map((g) => [g.group, g.status, g.layer, g.threads])).toEqual([
        ['connections', 'partial', 'critical-exclusive', [{ tid: 41, comm: 'connection' }]],
        ['innodb-io', 'applied', 'critical-latency', []],
        ['housekeeping', 'applied', 'yield', []],
      ]);
    } finally {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  });

  it('503 for /config, /pods, /generations/:n and /diff before the first generation; /generations is empty', async () => {
    for (const path of ['/config', '/pods', '/generations/1', '/diff?from=1&to=1']) {
      expect(await get(path), path).toMatchObject({ status: 503, body: { error: 'no config generation yet: the agent has not rendered a config for its node' } });
    }
    expect(await get('/generations')).toMatchObject({ status: 200, body: [] });
  });

  it('is read-only and answers unknown paths with JSON', async () => {
    const post = await fetch(`${base}/config`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toEqual({ error: 'POST /api/v1/config: the agent API is read-only (GET only)' });
    expect(await get('/nope')).toMatchObject({ status: 404, body: { error: 'no such endpoint: /api/v1/nope' } });
  });
});

/** Reads server-sent events from a streaming response. */
function eventReader(res: Response): () => Promise<{ event: string; id: string | null; data: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async () => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n').filter((l) => !l.startsWith(':'));
        if (lines.length === 0) continue; // a keep-alive comment
        const field = (name: string): string | null => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? null;
        return { event: field('event') ?? 'message', id: field('id'), data: JSON.parse(field('data') ?? 'null') as unknown };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('event stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

describe('GET /api/v1/events', () => {
  it('sends the status first, then an event per new generation and per status change', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const next = eventReader(res);
    expect(await next()).toEqual({ event: 'status', id: null, data: status });

    store.record(plans[0]!, at(0));
    store.record(plans[0]!, at(1)); // unchanged bytes: no generation, no event
    store.record(plans[1]!, at(2));
    const first = await next();
    expect(first).toMatchObject({ event: 'generation', id: '1', data: { number: 1, sha256: plans[0]?.configSha256, createdAt: at(0).toISOString() } });
    expect(await next()).toMatchObject({ event: 'generation', id: '2', data: { number: 2, moves: [{ name: 'db', from: null, to: 'critical' }] } });

    const enforcing: AgentStatus = { node: 'worker-1', state: 'enforcing', message: 'scx_layered running', generation: 2, sha256: plans[1]?.configSha256 ?? null, warnings: [] };
    setStatus(enforcing);
    expect(await next()).toEqual({ event: 'status', id: null, data: enforcing });

    expect(statusListeners.size).toBe(1);
    abort.abort();
    await expect.poll(() => statusListeners.size).toBe(0); // the subscription ends with the connection
  });

  it('sends keep-alive comments', async () => {
    const app = express();
    app.use('/api/v1', apiRouter({ store, status: () => status, heartbeatMs: 20 }));
    const s = await new Promise<Server>((ok) => {
      const l = app.listen(0, '127.0.0.1', () => ok(l));
    });
    const abort = new AbortController();
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v1/events`, { signal: abort.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes(': keep-alive')) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain('event: status');
    } finally {
      abort.abort();
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  });
});
