// The gRPC server against a real @grpc/grpc-js client on a unix socket in a temp dir.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicy } from '../core/config.ts';
import { plan } from '../core/plan.ts';
import { cgroupPolicy, node, pod, uidOf } from '../test/builders.ts';
import { GenerationStore, KEPT_GENERATIONS } from './generations.ts';
import type { GrpcServerHandle } from './grpc.ts';
import { GrpcAddressError, startGrpcServer } from './grpc.ts';
import type { ProtoGrpcType } from './proto/gen/agent.ts';
import type { AgentClient } from './proto/gen/temper/v1/Agent.ts';
import type { Generation__Output } from './proto/gen/temper/v1/Generation.ts';
import { AGENT_SERVICE, loadAgentProto } from './proto/load.ts';
import type { AgentStatus } from './views.ts';

const policy = cgroupPolicy();
const worker = node('worker-1', '8');
const api = pod({ name: 'api', namespace: 'shop', uid: uidOf(1), node: 'worker-1', qos: 'Burstable', cpu: '500m' });
const batch = pod({ name: 'batch', namespace: 'jobs', uid: uidOf(2), node: 'worker-1', qos: 'BestEffort' });
const db = pod({ name: 'db', namespace: 'shop', uid: uidOf(3), node: 'worker-1', priority: 1_000_000, qos: 'Guaranteed', cpu: '1', cpuLimit: '1' });
const bigDb = pod({ name: 'db', namespace: 'shop', uid: uidOf(3), node: 'worker-1', priority: 1_000_000, qos: 'Guaranteed', cpu: '2', cpuLimit: '2' });
/** Three different configs: api+batch; + a Critical db; api promoted to High and db grown to 2 CPUs. */
const plans = [
  plan(policy, worker, [api, batch]),
  plan(policy, worker, [api, batch, db]),
  plan(policy, worker, [{ ...api, priority: 100_000 }, batch, bigDb]),
];
const at = (minute: number): Date => new Date(Date.UTC(2025, 0, 1, 12, minute));

let dir: string;
let store: GenerationStore;
let server: GrpcServerHandle | null;
let clients: grpc.Client[];
let status: AgentStatus;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'temper-grpc-'));
  store = new GenerationStore();
  server = null;
  clients = [];
  status = { node: 'worker-1', state: 'starting', message: 'waiting for the first plan', generation: null, sha256: null, warnings: [] };
});

afterEach(async () => {
  for (const c of clients) c.close();
  await server?.close(1000);
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<AgentClient> {
  server = await startGrpcServer({ store, status: () => status, address: `unix://${join(dir, 'agent.sock')}` });
  const proto = grpc.loadPackageDefinition(loadAgentProto()) as unknown as ProtoGrpcType;
  const client = new proto.temper.v1.Agent(server.address, grpc.credentials.createInsecure());
  clients.push(client);
  return client;
}

/** A unary call as a promise of the response or the ServiceError. */
function unary<Req, Res>(fn: (req: Req, cb: grpc.requestCallback<Res>) => unknown, req: Req): Promise<Res> {
  return new Promise((ok, fail) => fn(req, (err, res) => (err !== null ? fail(err) : ok(res as Res))));
}

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('call succeeded');
}

type HealthClient = grpc.Client & { check(req: { service: string }, cb: grpc.requestCallback<{ status: string }>): void };

/** A client of grpc.health.v1.Health built from grpc-health-check's own proto. */
function healthClient(): HealthClient {
  const def = loadSync('health/v1/health.proto', { includeDirs: [resolve(dirname(healthProtoPath), '..', '..')], enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: new (address: string, creds: grpc.ChannelCredentials) => HealthClient } } } };
  const client = new pkg.grpc.health.v1.Health(server?.address ?? '', grpc.credentials.createInsecure());
  clients.push(client);
  return client;
}

function recordAll(): void {
  plans.forEach((p, i) => store.record(p, at(i)));
}

describe('temper.v1.Agent', () => {
  it('GetLayeredConfig returns the current generation with assignments, layers and distribution', async () => {
    recordAll();
    const client = await start();
    const g = await unary(client.getLayeredConfig.bind(client), {});
    const want = plans[2];
    expect(g.number).toBe('3'); // uint64 travels as a decimal string (longs: String)
    expect(g.createdAt).toBe('2025-01-01T12:02:00.000Z');
    expect(g.sha256).toBe(want?.configSha256);
    expect(g.configJson).toBe(want?.configJson);
    expect(g.assignments.map((a) => [a.namespace, a.name, a.tier, a.layer, a.priority, a.qosClass])).toEqual([
      ['jobs', 'batch', 'background', 'background', 0, 'BestEffort'],
      ['shop', 'api', 'high', 'high', 100_000, 'Burstable'],
      ['shop', 'db', 'critical', 'critical', 1_000_000, 'Guaranteed'],
    ]);
    expect(g.assignments[1]?.uid).toBe(uidOf(1));
    expect(g.assignments[1]?.reason).toMatch(/100000/);
    expect(g.layers.map((l) => l.name)).toEqual(['system', 'critical', 'high', 'background', 'catchall']);
    const critical = g.layers.find((l) => l.name === 'critical');
    expect(critical).toMatchObject({ tier: 'critical', kind: 'Confined', pods: 1, requestMillis: 2000, limitMillis: 2000, demoted: false, exclusive: true });
    expect(critical?.cpusRange).toEqual({ min: 2, max: 2 });
    const background = g.layers.find((l) => l.name === 'background');
    expect(background?.cpusRange).toBeNull(); // Open: no allocation
    expect(background?.limitMillis).toBeUndefined(); // unlimited: the optional field is absent
    expect(g.layers.map((l) => l.notes)).toEqual(want?.layers.map((l) => [...l.notes]));
    expect(g.layers.map((l) => [l.weight, l.sliceUs, l.protected, l.preempt, l.match])).toEqual(want?.layers.map((l) => [l.weight, l.sliceUs, l.protected, l.preempt, l.match]));
    expect(g.layers.find((l) => l.name === 'system')?.tier).toBeUndefined();
    expect(g.distribution?.critical).toEqual({ pods: 1, cpuMillis: 2000, demoted: false });
    expect(g.distribution?.high).toEqual({ pods: 1, cpuMillis: 500, demoted: false });
    expect(g.criticalDemoted).toBe(false);
    expect(g.moves).toEqual([{ namespace: 'shop', name: 'api', uid: uidOf(1), from: 'normal', to: 'high', _from: 'from', _to: 'to' }]);
  });

  it('reports a demoted Critical tier in the layer, the distribution and the generation', async () => {
    const big = pod({ name: 'big', namespace: 'shop', uid: uidOf(9), node: 'small', priority: 1_000_000, qos: 'Guaranteed', cpu: '3', cpuLimit: '3' });
    store.record(plan(policy, node('small', '2'), [big]), at(0));
    const client = await start();
    const g = await unary(client.getLayeredConfig.bind(client), {});
    expect(g.criticalDemoted).toBe(true);
    expect(g.distribution?.critical?.demoted).toBe(true);
    const critical = g.layers.find((l) => l.name === 'critical');
    expect(critical).toMatchObject({ kind: 'Grouped', demoted: true });
    expect(critical?.notes.join(' ')).toMatch(/demoted to Grouped/);
    expect(g.warnings.map((w) => [w.code, w.tier])).toEqual([['critical-demoted', 'critical']]);
    expect(g.warnings[0]?.message).toMatch(/^Critical is not fenced \(Grouped, not exclusive\): requests 3 need 3 whole cores but only 1 can be fenced/);
  });

  it('GetStatus returns the supervisor\'s status, generation absent before the first', async () => {
    const client = await start();
    expect(await unary(client.getStatus.bind(client), {})).toEqual({ node: 'worker-1', state: 'starting', message: 'waiting for the first plan', warnings: [] });
    status = { node: 'worker-1', state: 'enforcing', message: '', generation: 7, sha256: 'ab'.repeat(32), warnings: [] };
    expect(await unary(client.getStatus.bind(client), {})).toMatchObject({ state: 'enforcing', generation: '7', sha256: 'ab'.repeat(32) });
  });

  it('GetStatus carries the placer\'s summary in hints placement only', async () => {
    const client = await start();
    status = { node: 'worker-1', state: 'enforcing', message: '', generation: 7, sha256: 'ab'.repeat(32), warnings: [] };
    const cgroup = await unary(client.getStatus.bind(client), {});
    expect(cgroup.placement).toBeUndefined();
    expect(cgroup._placement).toBeUndefined(); // unset on the wire, not an empty message
    status = { ...status, placement: { mode: 'hints', hintedPods: 3, hintedThreads: 41, misplacedThreads: { high: 1, low: 2 } } };
    const hints = await unary(client.getStatus.bind(client), {});
    expect(hints.placement).toEqual({ mode: 'hints', hintedPods: 3, hintedThreads: 41, misplacedThreads: { high: 1, low: 2 } });
    expect(hints._placement).toBe('placement');
    status = { ...status, placement: { mode: 'hints', hintedPods: 0, hintedThreads: 0, misplacedThreads: {} } };
    expect((await unary(client.getStatus.bind(client), {})).placement).toEqual({ mode: 'hints', hintedPods: 0, hintedThreads: 0, misplacedThreads: {} });
  });

  it('ListGenerations returns summaries oldest first with their moves', async () => {
    recordAll();
    const client = await start();
    const { generations } = await unary(client.listGenerations.bind(client), {});
    expect(generations.map((g) => [g.number, g.createdAt, g.sha256])).toEqual(plans.map((p, i) => [String(i + 1), at(i).toISOString(), p.configSha256]));
    expect(generations[0]?.moves.map((m) => [m.name, m.from, m.to])).toEqual([['batch', undefined, 'background'], ['api', undefined, 'normal']]);
    expect(generations[1]?.moves.map((m) => [m.name, m.from, m.to])).toEqual([['db', undefined, 'critical']]);
  });

  it('GetGeneration returns a kept generation by number', async () => {
    recordAll();
    const client = await start();
    const g = await unary(client.getGeneration.bind(client), { number: 1 });
    expect(g.number).toBe('1');
    expect(g.configJson).toBe(plans[0]?.configJson);
    expect(g.assignments.map((a) => a.name)).toEqual(['batch', 'api']);
  });

  it('DiffGenerations returns per-layer changes with JSON field values, tier moves and the unified diff', async () => {
    recordAll();
    const client = await start();
    const d = await unary(client.diffGenerations.bind(client), { from: 1, to: 3 });
    expect([d.from, d.to]).toEqual(['1', '3']);
    expect(d.layers.map((l) => [l.layer, l.change, l.fields.length])).toEqual([['critical', 'added', 0], ['high', 'added', 0], ['normal', 'removed', 0]]);
    expect(d.moves.map((m) => [m.name, m.from, m.to])).toEqual([['api', 'normal', 'high'], ['db', undefined, 'critical']]);
    expect(d.text).toMatch(/^--- generation 1 \([0-9a-f]{12}\)\n\+\+\+ generation 3 \([0-9a-f]{12}\)\n@@ /);
    const same = await unary(client.diffGenerations.bind(client), { from: 2, to: 2 });
    expect(same).toMatchObject({ layers: [], moves: [], text: '' });
  });

  it('a field change carries before/after as JSON text', async () => {
    recordAll();
    const client = await start();
    const d = await unary(client.diffGenerations.bind(client), { from: 2, to: 3 });
    expect(d.layers.map((l) => [l.layer, l.change])).toEqual([['critical', 'changed'], ['high', 'added'], ['normal', 'removed']]);
    const fields = d.layers[0]?.fields ?? [];
    expect(fields.map((f) => f.path)).toEqual(expect.arrayContaining(['kind.Confined.cpus_range', 'kind.Confined.weight']));
    const range = fields.find((f) => f.path === 'kind.Confined.cpus_range');
    expect([range?.before, range?.after]).toEqual(['[1,1]', '[2,2]']);
    const direct = store.diff(2, 3)?.layers[0]?.fields ?? [];
    expect(fields).toEqual(direct.map((f) => ({ path: f.path, before: JSON.stringify(f.before), after: JSON.stringify(f.after) })));
  });

  it('WatchGenerations sends the current generation, then each new one recorded while connected', async () => {
    store.record(plans[0]!, at(0));
    const client = await start();
    const stream = client.watchGenerations({});
    const received: Generation__Output[] = [];
    const next = (count: number): Promise<void> => new Promise((ok) => {
      const check = (): void => {
        if (received.length >= count) ok();
      };
      stream.on('data', () => check());
      check();
    });
    stream.on('data', (g: Generation__Output) => received.push(g));
    await next(1);
    expect(received[0]?.number).toBe('1');
    store.record(plans[1]!, at(1));
    store.record(plans[1]!, at(2)); // same bytes: no new generation, nothing sent
    store.record(plans[2]!, at(3));
    await next(3);
    expect(received.map((g) => [g.number, g.sha256])).toEqual([['1', plans[0]?.configSha256], ['2', plans[1]?.configSha256], ['3', plans[2]?.configSha256]]);
    expect(received[2]?.moves.map((m) => m.name)).toEqual(['api']);
    const ended = new Promise<grpc.StatusObject>((ok) => stream.on('status', ok));
    stream.on('error', () => undefined);
    stream.cancel();
    expect((await ended).code).toBe(grpc.status.CANCELLED);
  });

  it('WatchGenerations sends the current generation again, same number, when its pods change under the same config (hints)', async () => {
    const hinted = defaultPolicy();
    store.record(plan(hinted, worker, [api]), at(0));
    const client = await start();
    const stream = client.watchGenerations({});
    const received: Generation__Output[] = [];
    let first = (): void => undefined;
    const once = new Promise<void>((ok) => { first = ok; });
    const twice = new Promise<void>((ok) => stream.on('data', (g: Generation__Output) => {
      received.push(g);
      if (received.length === 1) first();
      if (received.length === 2) ok();
    }));
    await once; // the server has subscribed: it sent the current generation
    store.record(plan(hinted, worker, [api, batch]), at(1)); // a BestEffort pod: the same config bytes
    await twice;
    expect(received.map((g) => [g.number, g.assignments.map((a) => a.name)])).toEqual([['1', ['api']], ['1', ['batch', 'api']]]); // pods sorted by namespace: jobs/batch first
    stream.on('error', () => undefined);
    stream.cancel();
  });

  it('WatchGenerations before the first generation waits for it', async () => {
    const client = await start();
    const stream = client.watchGenerations({});
    const first = new Promise<Generation__Output>((ok) => stream.once('data', ok));
    await new Promise((r) => setTimeout(r, 50));
    store.record(plans[0]!, at(0));
    expect((await first).number).toBe('1');
    stream.on('error', () => undefined);
    stream.cancel();
  });

  it('close() ends open watch streams and removes the socket', async () => {
    const client = await start();
    const stream = client.watchGenerations({});
    const ended = new Promise<grpc.StatusObject>((ok) => stream.on('status', ok));
    stream.on('data', () => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await server?.close(3000);
    expect(performance.now() - started).toBeLessThan(2000); // graceful, not the forced path
    expect((await ended).code).toBe(grpc.status.OK);
    expect(() => statSync(join(dir, 'agent.sock'))).toThrow();
    server = null;
  });
});

describe('shutdown', () => {
  it('close() cancels calls that do not finish in time (a health Watch never does)', async () => {
    await start();
    const client = healthClient() as HealthClient & { watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }> };
    const watch = client.watch({ service: AGENT_SERVICE });
    const first = new Promise((ok) => watch.once('data', ok));
    const ended = new Promise<grpc.StatusObject>((ok) => watch.on('status', ok));
    watch.on('error', () => undefined);
    await first;
    const started = performance.now();
    await server?.close(300);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect((await ended).code).not.toBe(grpc.status.OK);
    server = null;
  });
});

describe('errors', () => {
  it('UNAVAILABLE before the first generation', async () => {
    const client = await start();
    for (const call of [
      unary(client.getLayeredConfig.bind(client), {}),
      unary(client.getGeneration.bind(client), { number: 1 }),
      unary(client.diffGenerations.bind(client), { from: 1, to: 1 }),
    ]) {
      const err = await failure(call);
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(err.details).toBe('no config generation yet: the agent has not rendered a config for its node');
    }
    expect(await unary(client.listGenerations.bind(client), {})).toEqual({ generations: [] });
  });

  it('NOT_FOUND for a generation no longer kept, and for one that does not exist yet', async () => {
    const pods = Array.from({ length: KEPT_GENERATIONS + 2 }, (_, i) => pod({ name: `p${i}`, namespace: 'ns', uid: uidOf(100 + i), node: 'worker-1', qos: 'BestEffort' }));
    for (let i = 1; i <= pods.length; i++) store.record(plan(policy, worker, pods.slice(0, i)), at(i));
    const client = await start();
    const old = await failure(unary(client.getGeneration.bind(client), { number: 2 }));
    expect(old.code).toBe(grpc.status.NOT_FOUND);
    expect(old.details).toBe('generation 2 is no longer kept: the agent keeps the last 50 (now 3–52)');
    const future = await failure(unary(client.getGeneration.bind(client), { number: 53 }));
    expect(future.code).toBe(grpc.status.NOT_FOUND);
    expect(future.details).toBe('generation 53 does not exist: the newest is 52');
    const diff = await failure(unary(client.diffGenerations.bind(client), { from: 1, to: 52 }));
    expect(diff.code).toBe(grpc.status.NOT_FOUND);
    expect(diff.details).toMatch(/^generation 1 is no longer kept/);
    expect((await unary(client.getGeneration.bind(client), { number: 3 })).number).toBe('3');
  });

  it('INVALID_ARGUMENT for a missing (0) or out-of-range generation number', async () => {
    recordAll();
    const client = await start();
    const zero = await failure(unary(client.getGeneration.bind(client), {}));
    expect(zero.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(zero.details).toBe('number: invalid generation number 0: generation numbers start at 1');
    const huge = await failure(unary(client.getGeneration.bind(client), { number: '18446744073709551615' }));
    expect(huge.code).toBe(grpc.status.INVALID_ARGUMENT);
    const to = await failure(unary(client.diffGenerations.bind(client), { from: 1 }));
    expect(to.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(to.details).toMatch(/^to: /);
  });
});

describe('the server', () => {
  it('creates its socket with mode 0600, replacing a stale one', async () => {
    const path = join(dir, 'agent.sock');
    // A stale socket, as an agent killed with SIGKILL leaves it (a clean close would remove it).
    const holder = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await new Promise((ok) => holder.stdout.once('data', ok));
    holder.kill('SIGKILL');
    await new Promise((ok) => holder.once('exit', ok));
    expect(statSync(path).isSocket()).toBe(true);
    const client = await start();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await unary(client.getStatus.bind(client), {})).node).toBe('worker-1');
  });

  it('refuses to remove a path that is not a socket', async () => {
    const path = join(dir, 'agent.sock');
    writeFileSync(path, 'not a socket');
    await expect(startGrpcServer({ store, status: () => status, address: `unix://${path}` })).rejects.toThrow(GrpcAddressError);
    expect(statSync(path).isFile()).toBe(true);
  });

  it('rejects relative socket paths and malformed addresses', async () => {
    await expect(startGrpcServer({ store, status: () => status, address: 'unix://relative.sock' })).rejects.toThrow(/must be absolute/);
    await expect(startGrpcServer({ store, status: () => status, address: 'localhost' })).rejects.toThrow(/host:port/);
  });

  it('listens on host:port and reports the bound port', async () => {
    server = await startGrpcServer({ store, status: () => status, address: '127.0.0.1:0' });
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const proto = grpc.loadPackageDefinition(loadAgentProto()) as unknown as ProtoGrpcType;
    const client = new proto.temper.v1.Agent(server.address, grpc.credentials.createInsecure());
    clients.push(client);
    expect((await unary(client.getStatus.bind(client), {})).state).toBe('starting');
  });

  it('health: temper.v1.Agent is NOT_SERVING until the first generation, then SERVING', async () => {
    await start();
    const client = healthClient();
    const check = (service: string): Promise<{ status: string }> => unary(client.check.bind(client), { service });
    expect((await check('')).status).toBe('SERVING');
    expect((await check(AGENT_SERVICE)).status).toBe('NOT_SERVING');
    store.record(plans[0]!, at(0));
    expect((await check(AGENT_SERVICE)).status).toBe('SERVING');
  });

  it('health is SERVING at once when the store already holds a generation', async () => {
    store.record(plans[0]!, at(0));
    await start();
    const client = healthClient();
    expect((await unary(client.check.bind(client), { service: AGENT_SERVICE })).status).toBe('SERVING');
  });

  it('reflection lists the Agent and health services and describes the Agent', async () => {
    await start();
    const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
    const def = loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [reflectionProto], keepCase: true, longs: String, defaults: true, oneofs: true });
    type Reply = { list_services_response?: { service: { name: string }[] }; file_descriptor_response?: { file_descriptor_proto: Buffer[] } };
    type ReflectionClient = grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<Record<string, string>, Reply> };
    const Reflection = (grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (a: string, c: grpc.ChannelCredentials) => ReflectionClient } } } }).grpc.reflection.v1.ServerReflection;
    const client = new Reflection(server!.address, grpc.credentials.createInsecure());
    clients.push(client);
    const ask = (req: Record<string, string>): Promise<Reply> => new Promise((ok, fail) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (r: Reply) => {
        ok(r);
        call.end();
      });
      call.on('error', fail);
      call.write(req);
    });
    const list = await ask({ list_services: '*' });
    const names = list.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['temper.v1.Agent', 'grpc.health.v1.Health']));
    const file = await ask({ file_containing_symbol: 'temper.v1.Agent' });
    expect(file.file_descriptor_response?.file_descriptor_proto.length).toBeGreaterThan(0);
    expect(Buffer.concat(file.file_descriptor_response?.file_descriptor_proto ?? []).toString('latin1')).toContain('WatchGenerations');
  });
});
