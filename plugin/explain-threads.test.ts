// `explain pod --threads` against a real agent HTTP API (express + apiRouter) started in-process,
// serving the rows the agent builds (podRowView) for the examples' plan.
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRouter } from '../agent/api.ts';
import { GenerationStore } from '../agent/generations.ts';
import type { PodRowView } from '../agent/views.ts';
import { podRowView } from '../agent/views.ts';
import { tierRowOf } from '../core/plan.ts';
import { main } from './cli.ts';
import { describeThreads } from './explain-threads.ts';
import { loadManifests, loadNode, readPolicy } from './manifests.ts';
import { plan } from '../core/plan.ts';

const repo = join(import.meta.dirname, '..');
const PODS = join(repo, 'manifests/examples/pods.yaml');
const NODE = join(repo, 'manifests/examples/node.yaml');

let server: Server;
let url: string;
let rows: PodRowView[] = [];

beforeAll(async () => {
  const policy = readPolicy(undefined);
  const objects = await loadManifests(PODS);
  const p = plan(policy, await loadNode(NODE), objects.pods, objects.priorityClasses);
  const store = new GenerationStore();
  store.record(p, new Date(Date.UTC(2026, 11, 4)));
  const redis = p.pods.find((x) => x.pod.name === 'redis-0');
  rows = p.pods.map((x) => {
    const sel = p.profiles.selections.find((s) => s.uid === x.pod.uid);
    const placement = p.profiles.rendering.pods.find((r) => r.uid === x.pod.uid);
    const threads = x === redis ? new Map([['event-loop', [{ tid: 900, comm: 'redis-server' }, { tid: 903, comm: 'io_thd_1' }]], ['background-io', [{ tid: 901, comm: 'bio_close_file' }]]]) : null;
    return podRowView(tierRowOf(x), sel, placement, threads);
  });
  const app = express();
  app.use('/api/v1', apiRouter({ store, status: () => ({ node: 'worker-1', state: 'enforcing', message: 'ok', generation: 1, sha256: p.configSha256, warnings: [] }), pods: () => rows }));
  server = await new Promise<Server>((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

describe('explain pod --threads', () => {
  it('lists under each group the threads the agent saw in it', async () => {
    const r = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS, '--node', NODE, '--threads', '--agent-url', url);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const at = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix));
    expect(lines[at('  event-loop (exclusive)') + 1]).toBe('      threads: 900 redis-server, 903 io_thd_1 (2 threads)');
    expect(lines[at('  snapshots (yield)') + 1]).toBe('      threads: none seen');
    expect(lines[at('  background-io (yield)') + 1]).toBe('      threads: 901 bio_close_file (1 thread)');
  });
  it('a pod without a profile needs no agent; an agent that does not list the pod is an error naming it', async () => {
    const plain = await run('explain', 'pod', 'checkout-7d9f8-abcde', '-n', 'shop', '--from-file', PODS, '--node', NODE, '--threads', '--agent-url', 'http://127.0.0.1:9');
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('Profile:     none');
    const saved = rows;
    rows = rows.filter((x) => x.name !== 'redis-0');
    try {
      const r = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS, '--node', NODE, '--threads', '--agent-url', url);
      expect(r.code).toBe(1);
      expect(r.err).toContain('does not list pod shop/redis-0');
      expect(r.out).toBe('');
    } finally {
      rows = saved;
    }
  });
  it('an unreachable agent is one line and exit 1', async () => {
    const r = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS, '--node', NODE, '--threads', '--agent-url', 'http://127.0.0.1:9');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: cannot connect to the Temper agent at http:\/\/127\.0\.0\.1:9: /);
  });
  it('describes threads it has not read, and long lists, in words', () => {
    expect(describeThreads(null)).toContain('not read by the agent');
    const many = Array.from({ length: 15 }, (_, i) => ({ tid: 100 + i, comm: 'w' }));
    expect(describeThreads(many)).toMatch(/^100 w, .*111 w, and 3 more \(15 threads\)$/);
  });
});
