// The rename migration on the real control plane: a cluster on `infera` names (agent, webhook,
// classes, a Deployment, a bare pod) switched to `temper` with migration mode on. Pods of both
// class sets tier identically, the agent serves both keys, safe mode works under either key,
// `kubectl temper migrate` reports the remaining old-name objects (read-only), `--apply` creates
// what is missing, and after a rollout nothing of this cluster's uses the former names. Then
// migration mode off: the agent drops its former keys and still honours the former safe-mode key.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, SchedulingV1Api, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { jsonLogger } from '../adapters/log.ts';
import { parsePolicy } from '../core/config.ts';
import type { MigrationPlan } from '../core/migration.ts';
import { main } from '../plugin/cli.ts';
import { type WebhookProcess, installPriorityClasses, registerWebhook, startWebhookProcess, unregisterWebhook, waitUntilWebhookEffective } from '../dev/harness/webhook.ts';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';

const kubeconfig = inject('kubeconfig');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const scheduling = kc.makeApiClient(SchedulingV1Api);
const suffix = randomBytes(3).toString('hex');
const nodeName = `mig-node-${suffix}`;
const idleNode = `mig-idle-${suffix}`;
const ns = `mig-${suffix}`;
const legacyNs = `mig-legacy-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'temper-migration-test-'));
const sysfs = join(dir, 'sched_ext');
const configPath = join(dir, 'config.toml');
/** The operator's new configuration, given to `migrate` before it is rolled out. */
const newConfigPath = join(dir, 'new-config.toml');
const fake = join(import.meta.dirname, 'fixtures', 'fake-scx.ts');
const TIERS = ['critical', 'high', 'normal', 'low', 'background'] as const;

const INFERA = '';
const MIGRATING = '[naming]\nnames = "temper"\nmigration = true\n';
const TEMPER = '[naming]\nnames = "temper"\n';
const inferaPolicy = parsePolicy(INFERA, 'infera');

let agent: Agent;
let webhook: WebhookProcess | undefined;
let logs = '';

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const annotations = async (name = nodeName): Promise<Record<string, string>> => (await core.readNode({ name })).metadata?.annotations ?? {};
const annotate = (key: string, value: string | null, name = nodeName) => core.patchNode({ name, body: { metadata: { annotations: { [key]: value } } } }, merge);

function podBody(name: string, spec: Record<string, unknown>, resources: Record<string, unknown> = { requests: { cpu: '100m' } }): V1Pod {
  return { metadata: { name }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources }], ...spec } } as V1Pod;
}

let reloads = 0;

/** Writes the agent's config file (as a ConfigMap update does) and waits until the agent reloaded it. */
async function switchAgent(toml: string): Promise<void> {
  writeFileSync(configPath, toml);
  await until('the agent to reload its configuration', () => {
    const seen = logs.match(/"msg":"configuration reloaded"/g)?.length ?? 0;
    if (seen <= reloads) return false;
    reloads = seen;
    return true;
  }, 10_000);
}

/** (Re)starts the webhook with a configuration and registers it, as a chart upgrade rolls it out. */
async function runWebhook(toml: string): Promise<void> {
  await webhook?.stop();
  const policy = parsePolicy(toml, 'webhook');
  webhook = await startWebhookProcess({ kubeconfig, configToml: toml });
  await registerWebhook(kc, policy, webhook.url, webhook.caPem);
  await waitUntilWebhookEffective(kc, policy, ns);
}

async function migrate(...args: string[]): Promise<{ code: number; out: string; err: string; plan: MigrationPlan }> {
  let out = '';
  let err = '';
  const code = await main(['migrate', '--kubeconfig', kubeconfig, '--config', newConfigPath, ...args], { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  const json = args.includes('json');
  return { code, out, err, plan: json ? JSON.parse(out) as MigrationPlan : (undefined as unknown as MigrationPlan) };
}

/** The part of a plan about this test's objects (the control plane is shared with other suites). */
function ours(plan: MigrationPlan): Record<string, unknown> {
  return {
    uses: plan.uses.filter((u) => u.namespace === ns).map((u) => `${u.kind} ${u.name}: ${u.priorityClassName} → ${u.useClass}`).sort(),
    nodes: plan.nodes.filter((n) => n.name === nodeName || n.name === idleNode).map((n) => `${n.name}: ${n.formerOnly.join(',')}`).sort(),
    namespaces: plan.namespaces.filter((n) => n.name === ns || n.name === legacyNs).map((n) => n.name),
    missing: plan.classes.filter((c) => c.state !== 'present').map((c) => `${c.name} ${c.state}`),
  };
}

const tierOf = (name: string): string | undefined => agent.store.current()?.assignments.find((a) => a.namespace === ns && a.name === name)?.tier;

describe('rename migration on a real control plane: infera → temper', () => {
  beforeAll(async () => {
    mkdirSync(sysfs);
    writeFileSync(join(sysfs, 'state'), 'disabled\n');
    process.env.FAKE_SCX_DIR = dir;
    process.env.FAKE_SCX_SCHED_EXT = sysfs;
    writeFileSync(configPath, INFERA);
    writeFileSync(newConfigPath, MIGRATING);
    const capacity = { cpu: '8', memory: '16Gi', pods: '110' };
    for (const name of [nodeName, idleNode]) await core.createNode({ body: { metadata: { name }, status: { capacity, allocatable: capacity } } });
    // An operator's safe-mode request on a node without an agent, under the former key.
    await annotate('infera.io/safe-mode-requested', 'true', idleNode);
    await ensureNamespace(kc, ns);
    await ensureNamespace(kc, legacyNs);
    await core.patchNamespace({ name: legacyNs, body: { metadata: { labels: { 'infera.io/qos-defaulting': 'disabled' } } } }, merge);
    // The cluster before: only the infera classes (delete temper-* a previous run may have left).
    for (const tier of TIERS) await scheduling.deletePriorityClass({ name: `temper-${tier}` }).catch(() => undefined);
    await installPriorityClasses(kc, inferaPolicy);
    agent = new Agent({
      kc, nodeName, policy: inferaPolicy, policyPath: configPath,
      scheduler: { binary: process.execPath, args: [fake], stateDir: join(dir, 'state'), schedExtDir: sysfs, stopTimeoutMs: 1000, backoffMs: 200 },
      // placement "hints" (the default) with the fake scheduler: its map pin's directory, not the host's bpffs
      hints: { mapPin: join(dir, 'hints') },
      log: jsonLogger('agent', (l) => { logs += l; }),
      debounceMs: 100, maxDelayMs: 500, publishIntervalMs: 200,
      resilience: { backoffMs: 200, maxBackoffMs: 1000 },
    });
    agent.start();
    await runWebhook(INFERA);
    // Workloads on the infera names: a Deployment (its pods stay unscheduled: no node matches;
    // Recreate, so a rollout needs no kubelet) and pods on the agent's node.
    await apps.createNamespacedDeployment({ namespace: ns, body: {
      metadata: { name: 'api' },
      spec: {
        replicas: 2, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'api' } },
        template: { metadata: { labels: { app: 'api' } }, spec: { priorityClassName: 'infera-high', nodeSelector: { 'temper-migration-test': 'none' }, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } },
      },
    } });
    for (const tier of TIERS) await core.createNamespacedPod({ namespace: ns, body: podBody(`infera-${tier}`, { nodeName, priorityClassName: `infera-${tier}` }) });
    const defaulted = await core.createNamespacedPod({ namespace: ns, body: podBody('besteffort-before', { nodeName }, {}) });
    expect(defaulted.spec?.priorityClassName).toBe('infera-background');
    await until('the agent to publish under infera.io', async () => (await annotations())['infera.io/agent-status']?.includes('enforcing'));
    await until('the Deployment\'s pods', async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=api' })).items.length === 2);
  }, 120_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`agent log (last 4000 chars):\n${logs.slice(-4000)}\n${webhook?.log().slice(-2000) ?? ''}\n`);
  });

  afterAll(async () => {
    await unregisterWebhook(kc);
    await webhook?.stop();
    await agent?.stop(true);
    for (const name of [nodeName, idleNode]) await core.deleteNode({ name }).catch(() => undefined);
    for (const namespace of [ns, legacyNs]) await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    for (const tier of TIERS) await scheduling.deletePriorityClass({ name: `temper-${tier}` }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('on infera names the agent writes only infera.io keys', async () => {
    const a = await annotations();
    expect(Object.keys(a).filter((k) => k.startsWith('temper.codes/'))).toEqual([]);
    expect(a['infera.io/qos-distribution']).toBeDefined();
  });

  it('migrate (read-only) with the new configuration, before it is rolled out, reports every old-name object and changes nothing', async () => {
    const before = JSON.stringify((await scheduling.listPriorityClass()).items.map((c) => c.metadata?.name).sort());
    const r = await migrate('-o', 'json');
    expect(r.code, r.err).toBe(0);
    expect(ours(r.plan)).toEqual({
      uses: [
        'Deployment api: infera-high → temper-high',
        ...TIERS.map((t) => `Pod infera-${t}: infera-${t} → temper-${t}`),
        'Pod besteffort-before: infera-background → temper-background',
        ...(await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=api' })).items.map((p) => `Pod ${p.metadata?.name}: infera-high → temper-high`),
      ].sort(),
      nodes: [`${idleNode}: infera.io/safe-mode-requested`, `${nodeName}: infera.io/qos-distribution,infera.io/agent-status`].sort(),
      namespaces: [legacyNs],
      missing: TIERS.map((t) => `temper-${t} missing`),
    });
    // The steps name the exact commands, and that pods cannot change their class in place.
    const text = await migrate();
    expect(text.out).toContain(`kubectl -n ${ns} patch deployment api --type=json -p '[{"op":"replace","path":"/spec/template/spec/priorityClassName","value":"temper-high"}]'`);
    expect(text.out).toContain('A pod cannot change priorityClassName in place');
    expect(text.out).toContain('Create the temper-critical, temper-high, temper-normal, temper-low, temper-background PriorityClasses: kubectl temper migrate --apply');
    expect(JSON.stringify((await scheduling.listPriorityClass()).items.map((c) => c.metadata?.name).sort())).toBe(before);
    expect((await annotations(idleNode))['temper.codes/safe-mode-requested']).toBeUndefined();
  });

  it('with migration mode on, the agent serves both keys with the same values', async () => {
    await switchAgent(MIGRATING);
    const a = await until('both prefixes', async () => {
      const x = await annotations();
      return x['temper.codes/agent-status'] !== undefined && x['temper.codes/qos-distribution'] === x['infera.io/qos-distribution'] && x['temper.codes/agent-status'] === x['infera.io/agent-status'] ? x : undefined;
    });
    expect(JSON.parse(a['temper.codes/agent-status'] ?? '{}')).toMatchObject({ state: 'enforcing' });
  });

  it('migrate --apply creates the temper classes (identical values), the safe-mode key and the opt-out label; deletes nothing', async () => {
    const r = await migrate('--apply', '-o', 'json');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('priorityclass temper-high created');
    const classes = new Map((await scheduling.listPriorityClass()).items.map((c) => [c.metadata?.name, c]));
    for (const tier of TIERS) {
      expect(classes.get(`temper-${tier}`)?.value).toBe(classes.get(`infera-${tier}`)?.value);
      expect(classes.get(`temper-${tier}`)?.preemptionPolicy).toBe(classes.get(`infera-${tier}`)?.preemptionPolicy);
    }
    expect((await annotations(idleNode))['temper.codes/safe-mode-requested']).toBe('true');
    expect((await annotations(idleNode))['infera.io/safe-mode-requested']).toBe('true');
    expect((await core.readNamespace({ name: legacyNs })).metadata?.labels).toMatchObject({ 'infera.io/qos-defaulting': 'disabled', 'temper.codes/qos-defaulting': 'disabled' });
    const left = ours(r.plan);
    expect(left.nodes).toEqual([]);
    expect(left.namespaces).toEqual([]);
    expect(left.missing).toEqual([]);
    expect((left.uses as string[]).length).toBeGreaterThan(0);
  });

  it('the webhook defaults new pods to the temper set; the opt-out label works under either prefix', async () => {
    await runWebhook(MIGRATING);
    const pod = await core.createNamespacedPod({ namespace: ns, body: podBody('besteffort-after', { nodeName }, {}) });
    expect([pod.spec?.priorityClassName, pod.spec?.priority, pod.spec?.preemptionPolicy]).toEqual(['temper-background', -101, 'Never']);
    for (const key of ['infera.io/qos-defaulting', 'temper.codes/qos-defaulting']) {
      const opted = await core.createNamespacedPod({ namespace: ns, body: { ...podBody('x', {}, {}), metadata: { name: `opt-out-${key.split('.')[0] ?? ''}`, labels: { [key]: 'disabled' } } } as V1Pod });
      expect(opted.spec?.priorityClassName, key).toBeUndefined();
      await core.deleteNamespacedPod({ namespace: ns, name: opted.metadata?.name ?? '', gracePeriodSeconds: 0 });
    }
    const inLegacy = await core.createNamespacedPod({ namespace: legacyNs, body: podBody('legacy', {}, {}) });
    expect(inLegacy.spec?.priorityClassName).toBeUndefined();
  });

  it('pods of both class sets tier identically', async () => {
    for (const tier of TIERS) await core.createNamespacedPod({ namespace: ns, body: podBody(`temper-${tier}`, { nodeName, priorityClassName: `temper-${tier}` }) });
    await until('the agent to tier the temper pods', () => TIERS.every((t) => tierOf(`temper-${t}`) !== undefined));
    for (const tier of TIERS) {
      expect(tierOf(`infera-${tier}`)).toBe(tier);
      expect(tierOf(`temper-${tier}`)).toBe(tier);
    }
    expect(tierOf('besteffort-before')).toBe('background');
    expect(tierOf('besteffort-after')).toBe('background');
  });

  it.each(['temper.codes/safe-mode-requested', 'infera.io/safe-mode-requested'])('safe mode works under %s (and either true wins)', async (key) => {
    const other = key.startsWith('temper') ? 'infera.io/safe-mode-requested' : 'temper.codes/safe-mode-requested';
    await annotate(key, 'true');
    await annotate(other, 'false');
    await until('safe mode', () => agent.status().state === 'safe-mode');
    await until('both status keys say safe-mode', async () => {
      const a = await annotations();
      return a['temper.codes/agent-status']?.includes('"state":"safe-mode"') && a['infera.io/agent-status']?.includes('"state":"safe-mode"');
    });
    await annotate(key, null);
    await annotate(other, null);
    await until('enforcing again', () => agent.status().state === 'enforcing');
  });

  it('after the rollout and recreating the bare pods, migrate reports none of this cluster\'s objects', async () => {
    // The Deployment's step, exactly as printed.
    const step = (await migrate('-o', 'json')).plan.uses.find((u) => u.kind === 'Deployment' && u.namespace === ns)?.action ?? '';
    const patch = JSON.parse(/-p '(.*)'/.exec(step)?.[1] ?? '[]') as unknown[];
    await apps.patchNamespacedDeployment({ namespace: ns, name: 'api', body: patch }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    // Bare pods cannot change priorityClassName in place: recreate them with the new class.
    for (const name of [...TIERS.map((t) => `infera-${t}`), 'besteffort-before']) {
      const old = await core.readNamespacedPod({ namespace: ns, name });
      await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 });
      await until(`pod ${name} gone`, async () => (await core.listNamespacedPod({ namespace: ns, fieldSelector: `metadata.name=${name}` })).items.length === 0);
      const cls = (old.spec?.priorityClassName ?? '').replace('infera-', 'temper-');
      await core.createNamespacedPod({ namespace: ns, body: podBody(name, { nodeName, priorityClassName: cls }) });
    }
    await until('the rollout', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=api' })).items;
      return pods.length === 2 && pods.every((p) => p.spec?.priorityClassName === 'temper-high' && p.metadata?.deletionTimestamp === undefined);
    }, 30_000);
    const r = await migrate('-o', 'json');
    expect(ours(r.plan)).toEqual({ uses: [], nodes: [], namespaces: [], missing: [] });
    // Nothing was deleted: the infera classes are still there for a rollback.
    const names = (await scheduling.listPriorityClass()).items.map((c) => c.metadata?.name);
    for (const tier of TIERS) expect(names).toContain(`infera-${tier}`);
    await until('the recreated pods tiered', () => TIERS.every((t) => tierOf(`infera-${t}`) === t));
  }, 60_000);

  it('migration mode off: the agent drops its infera.io keys, and still honours infera.io/safe-mode-requested', async () => {
    await switchAgent(TEMPER);
    await until('infera.io keys removed', async () => {
      const a = await annotations();
      return a['infera.io/agent-status'] === undefined && a['infera.io/qos-distribution'] === undefined && a['temper.codes/agent-status'] !== undefined;
    });
    await annotate('infera.io/safe-mode-requested', 'true');
    await until('safe mode', () => agent.status().state === 'safe-mode');
    await annotate('infera.io/safe-mode-requested', null);
    await until('enforcing again', () => agent.status().state === 'enforcing');
  });
});
