// Bad input on purpose: the real webhook process over its real HTTPS endpoint, fed generated
// AdmissionReviews (fast-check) and misbehaving clients. Every answer must be a well-formed
// AdmissionReview (allowed, with no patch or a correct one) or a 4xx naming the problem; the
// process never crashes, never answers 5xx, and gives back its sockets and memory.
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'node:https';
import fc from 'fast-check';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultPolicy, tierClasses } from '../core/config.ts';
import { isRecord } from '../core/errors.ts';
import { podFromObject } from '../core/objects.ts';
import { computeQosClass } from '../core/resources.ts';
import { type WebhookProcess, httpsGet, installPriorityClasses, startWebhookProcess } from '../dev/harness/webhook.ts';

const kubeconfig = inject('kubeconfig');
const policy = defaultPolicy();
const classes = new Map(tierClasses(policy).map((c) => [c.name, c]));
const MAX_BODY = 3 * 1024 * 1024;
let webhook: WebhookProcess;
let agent: Agent;
let tried = 0;

interface Answer { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function post(body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  tried++;
  return new Promise((resolve, reject) => {
    const req = request(`${webhook.url}/mutate`, { agent, ca: webhook.caPem, method: 'POST', timeout: 20_000, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function metric(name: string): Promise<number> {
  const text = (await httpsGet(`${webhook.url}/metrics`, webhook.caPem)).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? NaN);
}

/** The invariants every answer to `sent` must satisfy (sent is the parsed body, or undefined when it was not JSON). */
function checkAnswer(sent: unknown, a: Answer): void {
  expect(a.status, a.body.slice(0, 300)).toBeLessThan(500);
  const body = JSON.parse(a.body) as Record<string, unknown>;
  if (a.status >= 400) {
    expect(typeof body.error === 'string' && body.error.length > 0, a.body).toBe(true);
    return;
  }
  expect(a.status).toBe(200);
  expect([body.apiVersion, body.kind]).toEqual(['admission.k8s.io/v1', 'AdmissionReview']);
  const res = body.response as Record<string, unknown>;
  const req = (sent as { request: Record<string, unknown> }).request;
  expect(res.uid).toBe(req.uid);
  expect(res.allowed).toBe(true);
  if (res.patch === undefined) { expect(res.patchType).toBeUndefined(); return; }
  // A patch: only for a pod CREATE without a class, applying cleanly, setting a tier class consistently.
  expect(res.patchType).toBe('JSONPatch');
  expect([req.operation, (req.kind as Record<string, unknown>).kind]).toEqual(['CREATE', 'Pod']);
  const object = req.object as Record<string, unknown>;
  const spec = isRecord(object.spec) ? object.spec : {};
  // Kubernetes treats an empty priorityClassName as none, and so does the webhook.
  expect(spec.priorityClassName ?? '').toBe('');
  const ops = JSON.parse(Buffer.from(res.patch as string, 'base64').toString('utf8')) as Operation[];
  expect(ops.every((o) => o.path === '/spec' || o.path.startsWith('/spec/'))).toBe(true);
  const patched = jsonpatch.applyPatch(structuredClone(object), ops, true, false).newDocument as Record<string, unknown>;
  const pspec = patched.spec as Record<string, unknown>;
  const cls = classes.get(String(pspec.priorityClassName));
  expect(cls, `patched class ${String(pspec.priorityClassName)}`).toBeDefined();
  expect([pspec.priority, pspec.preemptionPolicy]).toEqual([cls?.value, cls?.preemptionPolicy]);
  const meta = isRecord(patched.metadata) ? patched.metadata : {};
  const pod = podFromObject({ ...patched, metadata: { ...meta, name: 'x' } }, 'patched');
  const tier = computeQosClass(pod) === 'BestEffort' ? 'background' : 'normal';
  expect(pspec.priorityClassName).toBe(policy.naming.priorityClasses[tier]);
  // Everything outside spec's three fields is untouched.
  expect({ ...patched, spec: { ...pspec, priorityClassName: undefined, priority: undefined, preemptionPolicy: undefined } })
    .toEqual({ ...object, spec: { ...spec, priorityClassName: undefined, priority: undefined, preemptionPolicy: undefined } });
}

// Generators. Quantities and priorities range from valid to absurd; every key may be missing.
const quantity = fc.oneof(
  fc.constantFrom('100m', '1', '0', '2Gi', '512Mi', '1.5', '1e3', '9223372036854775807', '1e400', '-1', '99999999999999999999999Ki', 'abc', '', ' 1', '1m1', '0.0000001'),
  fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.object({ maxDepth: 1 }),
);
const resources = fc.record({
  requests: fc.dictionary(fc.constantFrom('cpu', 'memory', 'nvidia.com/gpu', 'ephemeral-storage', ''), quantity, { maxKeys: 3 }),
  limits: fc.dictionary(fc.constantFrom('cpu', 'memory', 'hugepages-2Mi'), quantity, { maxKeys: 3 }),
}, { requiredKeys: [] });
const container = fc.record({ name: fc.oneof(fc.string(), fc.constant('c')), image: fc.constant('registry.k8s.io/pause:3.10'), resources: fc.oneof(resources, fc.anything()) }, { requiredKeys: [] });
const priority = fc.oneof(fc.integer(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e300, Number.MAX_SAFE_INTEGER, 0.5), fc.string(), fc.constant(null));
const className = fc.oneof(fc.constant(undefined), fc.constantFrom(...classes.keys()), fc.string(), fc.constant(''), fc.constant(null));
const spec = fc.record({
  containers: fc.oneof(fc.array(container, { maxLength: 4 }), fc.anything()),
  initContainers: fc.array(container, { maxLength: 2 }),
  priority, priorityClassName: className,
  preemptionPolicy: fc.oneof(fc.constantFrom('Never', 'PreemptLowerPriority'), fc.string()),
  resources: resources,
}, { requiredKeys: [] });
const podObject = fc.record({
  apiVersion: fc.constant('v1'), kind: fc.constant('Pod'),
  metadata: fc.oneof(fc.record({ generateName: fc.string(), name: fc.oneof(fc.string(), fc.integer()), namespace: fc.string(), labels: fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }) }, { requiredKeys: [] }), fc.anything()),
  spec: fc.oneof({ weight: 5, arbitrary: spec }, { weight: 1, arbitrary: fc.anything() }),
  status: fc.oneof(fc.constant(undefined), fc.record({ qosClass: fc.oneof(fc.constantFrom('Guaranteed', 'Burstable', 'BestEffort'), fc.string()) })),
}, { requiredKeys: ['spec'] });
const review = fc.record({
  apiVersion: fc.oneof({ weight: 8, arbitrary: fc.constant('admission.k8s.io/v1') }, { weight: 1, arbitrary: fc.constantFrom('admission.k8s.io/v1beta1', 'v1', '') }, { weight: 1, arbitrary: fc.anything() }),
  kind: fc.oneof({ weight: 8, arbitrary: fc.constant('AdmissionReview') }, { weight: 1, arbitrary: fc.constantFrom('Pod', 'AdmissionReviewList', '') }, { weight: 1, arbitrary: fc.anything() }),
  request: fc.oneof({ weight: 10, arbitrary: fc.record({
    uid: fc.oneof({ weight: 9, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.anything() }),
    operation: fc.oneof({ weight: 6, arbitrary: fc.constant('CREATE') }, { weight: 1, arbitrary: fc.constantFrom('UPDATE', 'DELETE', 'CONNECT') }, { weight: 1, arbitrary: fc.anything() }),
    kind: fc.oneof(fc.constant({ group: '', version: 'v1', kind: 'Pod' }), fc.record({ group: fc.constantFrom('', 'apps'), version: fc.constantFrom('v1', 'v2'), kind: fc.constantFrom('Pod', 'Deployment', '') }), fc.anything()),
    namespace: fc.oneof(fc.constantFrom('default', 'shop', policy.naming.namespace), fc.string(), fc.anything()),
    subResource: fc.oneof(fc.constant(undefined), fc.constantFrom('', 'status', 'ephemeralcontainers'), fc.anything()),
    object: fc.oneof({ weight: 8, arbitrary: podObject }, { weight: 1, arbitrary: fc.anything() }),
  }, { requiredKeys: [] }) }, { weight: 1, arbitrary: fc.anything() }),
}, { requiredKeys: [] });

describe('the webhook under generated and hostile input', () => {
  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    await installPriorityClasses(kc, policy);
    webhook = await startWebhookProcess({ kubeconfig });
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
    // Wait until the process's cache has the classes: a plain BestEffort pod comes back patched.
    const probe = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'default', object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } } } });
    for (let i = 0; i < 100 && !(await post(probe)).body.includes('JSONPatch'); i++) await sleep(100);
  }, 60_000);

  afterAll(async () => {
    agent?.destroy();
    console.log(`webhook fuzz: ${tried} requests tried`);
    await webhook?.stop();
  });

  it('generated AdmissionReviews: a well-formed review or a 4xx with a reason', async () => {
    // Checked against the review as it went over the wire: JSON turns an `undefined` in an array
    // into null (fc.anything() makes such arrays; seed 638311888 found one in a container's resources).
    await fc.assert(fc.asyncProperty(review, async (r) => {
      const wire = JSON.stringify(r);
      checkAnswer(JSON.parse(wire) as unknown, await post(wire));
    }), { numRuns: 1500 });
  }, 180_000);

  it('generated JSON of any shape, and bytes that are not JSON', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string(), fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b))), async (body) => {
      const a = await post(body);
      expect(a.status).toBeLessThan(500);
      if (a.status !== 200) expect(JSON.parse(a.body).error).toBeTruthy();
    }), { numRuns: 500 });
  }, 120_000);

  it('huge fields and deep nesting', async () => {
    const base = (object: unknown) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'huge', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'default', object } });
    const cases: unknown[] = [
      base({ metadata: { name: 'p', labels: { big: 'x'.repeat(1024 * 1024) } }, spec: { containers: [{ name: 'c' }] } }),
      base({ metadata: { name: 'p' }, spec: { containers: Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, resources: { requests: { cpu: '1m' } } })) } }),
      base({ metadata: { name: 'x'.repeat(100_000) }, spec: { containers: [{ name: 'c', resources: { limits: { cpu: `${'9'.repeat(10_000)}` } } }] } }),
    ];
    for (const c of cases) checkAnswer(c, await post(JSON.stringify(c)));
    // 100 000 levels of nesting inside the pod and as the whole request (JSON.stringify cannot build these).
    const deep = (n: number): string => `${'{"a":['.repeat(n)}1${']}'.repeat(n)}`;
    // The answer must be the one for the same pod without the deep field (the checker itself cannot copy 100 000 levels).
    const shallow = base({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } });
    const nestedPod = JSON.stringify(shallow).replace('"spec":{', `"deep":${deep(100_000)},"spec":{`);
    const a = await post(nestedPod);
    checkAnswer(shallow, a);
    expect(JSON.parse(a.body).response.patchType).toBe('JSONPatch');
    for (const body of [deep(100_000), `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${deep(100_000)}}`]) {
      const b = await post(body);
      expect(b.status).toBe(400);
      expect(JSON.parse(b.body).error).toBeTruthy();
    }
  }, 60_000);

  it('a body over the limit gets 413 with a reason, declared or streamed', async () => {
    const big = Buffer.alloc(MAX_BODY + 1, 0x20);
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toContain(`exceeds ${MAX_BODY} bytes`);
    // Chunked, no content-length: cut off once the limit is passed.
    const streamed = await new Promise<Answer>((resolve, reject) => {
      tried++;
      const req = request(`${webhook.url}/mutate`, { ca: webhook.caPem, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent <= MAX_BODY + chunk.length) { sent += chunk.length; if (!req.write(chunk)) { req.once('drain', pump); return; } }
        req.end();
      };
      pump();
    }).catch((err: Error) => ({ status: -1, body: err.message, headers: {} }));
    // Either the 413 arrived, or the server dropped the connection after sending it mid-upload.
    if (streamed.status !== -1) {
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body).error).toContain('exceeds');
    } else expect(streamed.body).toMatch(/ECONNRESET|EPIPE|socket hang up/);
  }, 60_000);

  /** A raw TLS client: writes `parts` with `gapMs` between them, optionally half-closes, and returns what came back. */
  function rawClient(parts: string[], gapMs: number, halfClose: boolean): Promise<{ text: string; closed: boolean; ms: number }> {
    tried++;
    const started = performance.now();
    return new Promise((resolve) => {
      let text = '';
      const socket = connect({ host: '127.0.0.1', port: webhook.port, ca: webhook.caPem }, async () => {
        for (const p of parts) {
          if (socket.destroyed) break;
          socket.write(p);
          await sleep(gapMs);
        }
        if (halfClose && !socket.destroyed) socket.end();
      });
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => { text += c; });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ text, closed: true, ms: performance.now() - started }));
      setTimeout(() => { socket.destroy(); }, 30_000).unref();
    });
  }

  it('slow and half-closed clients: answered or cut off, and nobody else waits', async () => {
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'slow', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'default', object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } } } });
    const head = `POST /mutate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const bytes = (s: string, n: number): string[] => Array.from({ length: Math.ceil(s.length / n) }, (_, i) => s.slice(i * n, (i + 1) * n));
    const slowButDone = rawClient([...bytes(head, 20), ...bytes(body, 40)], 100, true); // ~3 s for a full request, then FIN
    const trickler = rawClient(bytes(head + body, 1), 200, false); // would take minutes: cut off by requestTimeout
    const halfBody = rawClient([head, body.slice(0, 50)], 10, true); // FIN mid-body
    const fullThenFin = rawClient([head + body], 10, true); // a whole request, then FIN: still answered
    const manySlow = Array.from({ length: 50 }, () => rawClient(['POST /mutate HTTP/1.1\r\n'], 15_000, false)); // half a header each, then idle
    // Meanwhile ordinary requests are answered at once.
    await sleep(500);
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      expect((await httpsGet(`${webhook.url}/healthz`, webhook.caPem)).status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(2000);
    }
    const done = await slowButDone;
    expect(done.text).toMatch(/^HTTP\/1\.1 200/);
    expect(done.text).toContain('"patchType":"JSONPatch"');
    const cut = await trickler;
    expect(cut.closed).toBe(true);
    expect(cut.text === '' || /^HTTP\/1\.1 408/.test(cut.text)).toBe(true);
    expect(cut.ms).toBeLessThan(25_000);
    const half = await halfBody;
    expect(half.closed).toBe(true);
    expect(half.text === '' || /^HTTP\/1\.1 4\d\d/.test(half.text)).toBe(true);
    const fin = await fullThenFin;
    expect(fin.text).toMatch(/^HTTP\/1\.1 200/);
    for (const s of await Promise.all(manySlow)) {
      expect(s.closed).toBe(true); // cut off by headersTimeout (408), not left holding a socket
      expect(s.ms).toBeLessThan(20_000);
    }
  }, 60_000);

  it('afterwards: still serving, no 5xx, no handler errors, sockets and memory given back', async () => {
    expect((await httpsGet(`${webhook.url}/healthz`, webhook.caPem)).status).toBe(200);
    expect(await metric('temper_webhook_admissions_total{outcome="error"}')).toBe(0);
    expect(webhook.log()).not.toContain('admission handler failed');
    agent.destroy();
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
    // Connections opened above are all closed by now (cut off, half-closed or destroyed).
    let fds = NaN;
    let handles = NaN;
    for (let i = 0; i < 50; i++) {
      fds = await metric('temper_webhook_process_open_fds');
      handles = await metric('temper_webhook_nodejs_active_handles_total');
      if (handles <= 15) break;
      await sleep(200);
    }
    console.log(`after ${tried} requests: open fds ${fds}, active handles ${handles}, heap used ${(await metric('temper_webhook_nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(1)} MiB, rss ${(await metric('temper_webhook_process_resident_memory_bytes') / 2 ** 20).toFixed(1)} MiB`);
    expect(handles).toBeLessThanOrEqual(15);
    expect(fds).toBeLessThan(60);
    expect(await metric('temper_webhook_nodejs_heap_size_used_bytes')).toBeLessThan(200 * 2 ** 20);
  }, 30_000);
});
