// The webhook's option to send Critical pods to Temper's scheduler, through the real request listener.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podObject } from '../test/builders.ts';
import { silentLogger } from '../adapters/log.ts';
import type { ClassCatalog } from '../core/admission.ts';
import { defaultPolicy, tierClasses } from '../core/config.ts';
import { webhookHandler } from './server.ts';

const policy = defaultPolicy();
const classes = tierClasses(policy);
const catalog: ClassCatalog = { get: (n) => classes.find((c) => c.name === n), globalDefault: () => undefined };
let server: Server;
let base: string;

async function admit(pod: Record<string, unknown>): Promise<{ patch: unknown[] | null }> {
  const body = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop', object: pod } };
  const res = await fetch(`${base}/mutate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const review = (await res.json()) as { response: { patch?: string } };
  return { patch: review.response.patch === undefined ? null : JSON.parse(Buffer.from(review.response.patch, 'base64').toString()) };
}

beforeAll(async () => {
  const { handle } = webhookHandler({ policy, catalog, ready: () => true, log: silentLogger, criticalSchedulerName: 'temper-scheduler' });
  server = createServer(handle).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => { server.close(); });

describe('webhook: schedulerName for Critical pods', () => {
  it('sets spec.schedulerName on a Critical pod, and only that', async () => {
    const { patch } = await admit(podObject({ namespace: 'shop', className: 'infera-critical', priority: 1_000_000, node: null }));
    expect(patch).toEqual([{ op: 'add', path: '/spec/schedulerName', value: 'temper-scheduler' }]);
  });

  it('leaves other pods and pods of other schedulers alone, and still defaults classes', async () => {
    expect((await admit(podObject({ namespace: 'shop', className: 'infera-high', priority: 100_000, node: null }))).patch).toBeNull();
    const own = podObject({ namespace: 'shop', className: 'infera-critical', priority: 1_000_000, node: null });
    (own.spec as Record<string, unknown>).schedulerName = 'gang';
    expect((await admit(own)).patch).toBeNull();
    const { patch } = await admit(podObject({ namespace: 'shop', node: null }));
    expect(patch).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/spec/priorityClassName', value: 'infera-background' })]));
    expect(JSON.stringify(patch)).not.toContain('schedulerName');
  });
});
