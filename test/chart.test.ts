// The Helm chart (manifests/chart/temper) with the real helm: lint, template and its schema;
// what it renders against the code that generates the same objects; and the rendered chart
// server-side applied to the real control plane, with the agent and the webhook running as
// local processes from it (its config, certificate and service-account tokens), and the
// agent's own-node admission policy exercised with a real pod-bound token.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AdmissionregistrationV1Api, ApiException, AppsV1Api, AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig,
  KubernetesObjectApi, type KubernetesObject, PatchStrategy, RbacAuthorizationV1Api, SchedulingV1Api,
  type V1ConfigMap, type V1DaemonSet, type V1Deployment, type V1Pod, type V1Secret, setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { runInVm, vmAvailability } from '../bpf/vm.ts';
import { type Policy, defaultPolicy, parsePolicy } from '../core/config.ts';
import type { ConfigError } from '../core/errors.ts';
import { parseProfileFiles } from '../core/profiles.ts';
import { agentNodeAnnotations, mutatingWebhookConfiguration, priorityClassObjects } from '../core/install-objects.ts';
import { releaseFullname, webhookConfigurationName } from '../core/names.ts';
import { httpsGet } from '../dev/harness/webhook.ts';
import { ensureNamespace, freePort } from '../dev/controlplane/controlplane.ts';
import { ensureHelm } from '../dev/install-helm.ts';
import { runCommand as run } from './run-command.ts';

const repo = join(import.meta.dirname, '..');
const chart = join(repo, 'manifests', 'chart', 'temper');
const kubeconfig = inject('kubeconfig');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const suffix = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'temper-chart-'));
let helmBin = '';

type Obj = KubernetesObject & Record<string, unknown>;
type Values = Record<string, unknown>;

let valuesFiles = 0;
function valuesFile(values: Values): string {
  const path = join(work, `values-${valuesFiles++}.yaml`);
  writeFileSync(path, stringify(values));
  return path;
}

/** `helm template`; throws with helm's stderr when it fails. */
async function template(values: Values, { release = 'temper', namespace = 'temper-system' } = {}): Promise<Obj[]> {
  const r = await run(helmBin, ['template', release, chart, '--namespace', namespace, '-f', valuesFile(values)]);
  if (r.code !== 0) throw new Error(r.stderr);
  return parseAllDocuments(r.stdout).map((d) => {
    if (d.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj | null;
  }).filter((o): o is Obj => o !== null);
}

function all(docs: Obj[], kind: string): Obj[] {
  return docs.filter((d) => d.kind === kind);
}

function one<T = Obj>(docs: Obj[], kind: string, name?: string): T {
  const found = all(docs, kind).filter((d) => name === undefined || d.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

function configOf(docs: Obj[]): Policy {
  const cm = one<V1ConfigMap>(docs, 'ConfigMap', 'temper-config');
  return parsePolicy(cm.data?.['config.toml'] ?? '', 'configmap temper-config');
}

function pem(b64: string | undefined): string {
  return Buffer.from(b64 ?? '', 'base64').toString('utf8');
}

/** Non-default values for every config section; unique names so cluster-wide objects do not collide. */
function customValues(): Values {
  return {
    config: {
      priority_mapping: { critical: 500000, high: 50000, normal: 10, low: -200, system: 1000000000, system_to_catchall: true },
      node: { reserved_cpus: 2, cgroup_driver: 'cgroupfs', threads_per_core: 2, placement: 'cgroup' },
      naming: {
        annotation_prefix: `t${suffix}.example.io`,
        priority_classes: { critical: `c${suffix}-critical`, high: `c${suffix}-high`, normal: `c${suffix}-normal`, low: `c${suffix}-low`, background: `c${suffix}-background` },
      },
      webhook: { replace_global_default: false },
      layers: { critical: { slice_us: 5000, util_range: [0.3, 0.6], exclusive: true, growth_algo: 'Linear' }, background: { yield_ignore: 0.5, min_exec_us: 100 } },
    },
    agent: { nodeSelector: { 'temper-chart-test': suffix }, httpPort: 18080, scxArgs: ['--stats', '1'] },
    webhook: { timeoutSeconds: 5 },
    profiles: { 'api.toml': API_PROFILE },
  };
}

// A workload-profile file as an operator writes one into the values (docs/profiles.md).
const API_PROFILE = '[[profile]]\nname = "api"\nimages = ["registry.example.com/shop/api"]\n  [[profile.group]]\n  name = "workers"\n  treatment = "latency"\n  threads = ["http-worker"]\n';

function customPolicy(namespace: string): Policy {
  return {
    priorityMapping: { critical: 500000, high: 50000, normal: 10, low: -200, system: 1000000000, systemToCatchall: true },
    node: { reservedCpus: 2, cgroupDriver: 'cgroupfs', threadsPerCore: 2, placement: 'cgroup' },
    naming: {
      names: 'infera', migration: false, annotationPrefix: `t${suffix}.example.io`, namespace,
      priorityClasses: { critical: `c${suffix}-critical`, high: `c${suffix}-high`, normal: `c${suffix}-normal`, low: `c${suffix}-low`, background: `c${suffix}-background` },
    },
    webhook: { replaceGlobalDefault: false },
    layers: { critical: { slice_us: 5000, util_range: [0.3, 0.6], exclusive: true, growth_algo: 'Linear' }, background: { yield_ignore: 0.5, min_exec_us: 100 } },
  };
}

beforeAll(async () => {
  helmBin = await ensureHelm(); // cached by `node dev/install-helm.ts`; minutes when cold
}, 900_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('helm chart: lint, template and schema', () => {
  it('helm lint --strict passes for the default and for non-default values', async () => {
    for (const extra of [[], ['-f', valuesFile(customValues())], ['--set', 'certManager.enabled=true']]) {
      const r = await run(helmBin, ['lint', '--strict', chart, ...extra]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders exactly the PriorityClasses priorityClassObjects() generates, for the defaults and for a custom config', async () => {
    const docs = await template({});
    expect(all(docs, 'PriorityClass')).toEqual(priorityClassObjects(defaultPolicy()));
    // The ConfigMap is the default configuration, Temper's namespace included.
    expect(configOf(docs)).toEqual(defaultPolicy());

    const custom = await template(customValues(), { namespace: 'temper-custom' });
    const policy = configOf(custom);
    expect(policy).toEqual(customPolicy('temper-custom'));
    expect(all(custom, 'PriorityClass')).toEqual(priorityClassObjects(policy));
  });

  it('renders the MutatingWebhookConfiguration mutatingWebhookConfiguration() generates, with a CA that signed the serving certificate', async () => {
    for (const [values, namespace] of [[{}, 'temper-system'], [customValues(), 'temper-custom'], [{ config: { webhook: { replace_global_default: true } } }, 'temper-system']] as const) {
      const docs = await template(values, { namespace });
      const policy = configOf(docs);
      const rendered = one(docs, 'MutatingWebhookConfiguration') as Obj & { webhooks: { clientConfig: { caBundle: string } }[] };
      const caPem = pem(rendered.webhooks[0]?.clientConfig.caBundle);
      const timeout = (values as { webhook?: { timeoutSeconds?: number } }).webhook?.timeoutSeconds ?? 3;
      const want = mutatingWebhookConfiguration(policy, { service: { namespace, name: 'temper-webhook', port: 443 }, caBundlePem: caPem }, { timeoutSeconds: timeout, fullname: releaseFullname('temper') });
      expect(rendered.metadata?.name).toBe((want.metadata as { name: string }).name);
      expect(rendered.webhooks).toEqual(want.webhooks);

      const secret = one<V1Secret>(docs, 'Secret', 'temper-webhook-tls');
      expect(pem(secret.data?.['ca.crt'])).toBe(caPem);
      const ca = new X509Certificate(caPem);
      const cert = new X509Certificate(pem(secret.data?.['tls.crt']));
      expect(ca.ca).toBe(true);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(pem(secret.data?.['tls.key'])))).toBe(true);
      expect(cert.subjectAltName).toContain(`DNS:temper-webhook.${namespace}.svc`);
      // ECDSA P-256 keys, a year's validity (not ten), and the expiry the upgrade's renewal reads.
      for (const c of [ca, cert]) expect([c.publicKey.asymmetricKeyType, c.publicKey.asymmetricKeyDetails?.namedCurve]).toEqual(['ec', 'prime256v1']);
      const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
      expect(days).toBeGreaterThan(364);
      expect(days).toBeLessThan(367);
      expect(Math.abs(Number(secret.metadata?.annotations?.['temper.infera.io/certificate-expires']) - Date.parse(cert.validTo) / 1000)).toBeLessThan(120);
      // The Deployment mounts that Secret and this config.
      const deployment = one<V1Deployment>(docs, 'Deployment');
      expect(deployment.spec?.template.spec?.volumes?.map((v) => v.secret?.secretName ?? v.configMap?.name)).toEqual(['temper-config', 'temper-webhook-tls']);
    }
  });

  it.each([
    ['temper names', { names: 'temper', migration: false }, ['temper'], 'temper.codes'],
    ['temper names in migration mode', { names: 'temper', migration: true }, ['temper', 'infera'], 'temper.codes'],
    ['infera names in migration mode', { names: 'infera', migration: true }, ['infera', 'temper'], 'infera.io'],
  ])('renders %s exactly as core generates them (classes, webhook, agent keys, config)', async (_what, naming, sets, prefix) => {
    const docs = await template({ config: { naming } });
    const policy = configOf(docs);
    expect(policy).toEqual(parsePolicy(`[naming]\nnames = "${naming.names}"\nmigration = ${naming.migration}\n`, 'x'));
    expect(policy.naming.annotationPrefix).toBe(prefix);
    // One class per tier and set, identical values per tier across the sets.
    const classes = all(docs, 'PriorityClass');
    expect(classes).toEqual(priorityClassObjects(policy));
    expect(classes.map((c) => c.metadata?.name)).toEqual(sets.flatMap((set) => ['critical', 'high', 'normal', 'low', 'background'].map((tier) => `${set}-${tier}`)));
    const valueOf = new Map(classes.map((c) => [c.metadata?.name, c.value]));
    for (const tier of ['critical', 'high', 'normal', 'low', 'background']) expect(new Set(sets.map((set) => valueOf.get(`${set}-${tier}`))).size).toBe(1);
    const mwc = one(docs, 'MutatingWebhookConfiguration') as Obj & { webhooks: { name: string; clientConfig: { caBundle: string } }[] };
    const want = mutatingWebhookConfiguration(policy, { service: { namespace: 'temper-system', name: 'temper-webhook', port: 443 }, caBundlePem: pem(mwc.webhooks[0]?.clientConfig.caBundle) });
    expect(mwc.webhooks).toEqual(want.webhooks);
    expect(mwc.webhooks[0]?.name).toBe(`qos-defaulting.${prefix}`);
    const vap = one(docs, 'ValidatingAdmissionPolicy') as Obj & { spec: { variables: { name: string; expression: string }[] } };
    expect(JSON.parse(vap.spec.variables.find((v) => v.name === 'temperKeys')?.expression ?? '')).toEqual(agentNodeAnnotations(policy));
  });

  it('placement "hints" (the default): the agent gets hostPID and the host\'s /sys/fs/bpf, which "cgroup" drops, nothing else differs; a bad value fails', async () => {
    const node = { reserved_cpus: 1, cgroup_driver: 'systemd', threads_per_core: 1 };
    const raw = async (values: Values): Promise<string> => {
      const r = await run(helmBin, ['template', 'temper', chart, '--namespace', 'temper-system', '-f', valuesFile(values)]);
      if (r.code !== 0) throw new Error(r.stderr);
      return r.stdout.replace(/^( *(?:caBundle|tls\.crt|tls\.key|ca\.crt): ).*$/gm, '$1<random>').replace(/(checksum\/[a-z-]+: ).*$/gm, '$1<sum>')
        // the generated certificate's expiry is the render's second: two renders may differ by one
        .replace(/(certificate-expires: ).*$/gm, '$1<expiry>');
    };
    expect(await raw({ config: { node: { ...node, placement: 'hints' } } })).toBe(await raw({}));
    const docs = await template({});
    expect(configOf(docs).node.placement).toBe('hints');
    const cgroup = await template({ config: { node: { ...node, placement: 'cgroup' } } });
    expect(configOf(cgroup).node.placement).toBe('cgroup');
    const base = one<V1DaemonSet>(cgroup, 'DaemonSet').spec?.template.spec;
    const pod = one<V1DaemonSet>(docs, 'DaemonSet').spec?.template.spec;
    expect(pod?.hostPID).toBe(true);
    expect(pod?.volumes?.filter((v) => !base?.volumes?.some((b) => b.name === v.name))).toEqual([{ name: 'bpffs', hostPath: { path: '/sys/fs/bpf', type: 'Directory' } }]);
    const mounts = pod?.containers[0]?.volumeMounts ?? [];
    expect(mounts.filter((m) => !base?.containers[0]?.volumeMounts?.some((b) => b.name === m.name))).toEqual([{ name: 'bpffs', mountPath: '/sys/fs/bpf' }]);
    expect({ ...pod, hostPID: false, volumes: base?.volumes, containers: [{ ...pod?.containers[0], volumeMounts: base?.containers[0]?.volumeMounts }] }).toEqual(base);
  });

  it('the agent DaemonSet carries only the documented privileges and host mounts', async () => {
    const docs = await template({ agent: { nodeSelector: { 'temper.example.io/canary': 'true' } } });
    const ds = one<V1DaemonSet>(docs, 'DaemonSet');
    const pod = ds.spec?.template.spec;
    const c = pod?.containers[0];
    expect(pod?.containers).toHaveLength(1);
    // No host network: the API is on the pod's loopback, the kubelet probes a probes-only port.
    // The host PID namespace is placement "hints"' (task hints are keyed by host TID).
    expect([pod?.hostNetwork, pod?.hostPID ?? false, pod?.hostIPC ?? false]).toEqual([false, true, false]);
    expect(pod?.dnsPolicy).toBeUndefined();
    expect(c?.securityContext).toEqual({
      privileged: false, capabilities: { drop: ['ALL'], add: ['BPF', 'PERFMON', 'SYS_ADMIN'] },
      seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 0, runAsGroup: 0, readOnlyRootFilesystem: true,
    });
    const mounts = Object.fromEntries((c?.volumeMounts ?? []).map((m) => [m.mountPath, [m.readOnly ?? false, m.recursiveReadOnly ?? null]]));
    // Only BTF and sched_ext from /sys/kernel (not debugfs, tracefs or securityfs under it), read-only all the way down.
    const ro = [true, 'IfPossible'];
    expect(mounts).toEqual({ '/etc/temper': [true, null], '/etc/temper/profiles': [true, null], '/sys/fs/cgroup': ro, '/sys/kernel/btf': ro, '/sys/kernel/sched_ext': ro, '/boot': ro, '/run/temper': [false, null], '/var/run/scx': [false, null], '/sys/fs/bpf': [false, null] });
    const hostPaths = (pod?.volumes ?? []).filter((v) => v.hostPath !== undefined).map((v) => v.hostPath?.path);
    expect(hostPaths).toEqual(['/sys/fs/cgroup', '/sys/kernel/btf', '/sys/kernel/sched_ext', '/boot', '/run/temper', '/var/run/scx', '/sys/fs/bpf']);
    const older = one<V1DaemonSet>(await template({ agent: { recursiveReadOnly: '' } }), 'DaemonSet');
    expect(older.spec?.template.spec?.containers[0]?.volumeMounts?.some((m) => m.recursiveReadOnly !== undefined)).toBe(false);
    expect(c?.command).toEqual(['node', '--max-semi-space-size=1', '--optimize-for-size', '/opt/temper/agent/main.ts']);
    expect(c?.args).toContain('--config=/etc/temper/config.toml');
    expect(c?.args).toContain('--http-host=127.0.0.1');
    expect(c?.env?.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])).toEqual([['NODE_NAME', 'spec.nodeName'], ['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace']]);
    expect(c?.args).toContain('--probe-port=8081');
    expect(c?.ports).toEqual([{ name: 'probes', containerPort: 8081, protocol: 'TCP' }]);
    expect(c?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'probes' });
    expect(c?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'probes' });
    expect(c?.resources?.requests).toEqual({ cpu: '20m', memory: '192Mi' });
    expect(pod?.priorityClassName).toBe('system-node-critical');
    expect(pod?.tolerations).toEqual([{ operator: 'Exists' }]);
    // Helm merges maps: the canary selector comes on top of the default Linux one.
    expect(pod?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'temper.example.io/canary': 'true' });
    expect(pod?.serviceAccountName).toBe('temper-agent');
    // `kubectl temper config` finds the agent pod by this label.
    expect(ds.spec?.template.metadata?.labels?.['app.kubernetes.io/name']).toBe('temper-agent');

    const privileged = one<V1DaemonSet>(await template({ agent: { privileged: true } }), 'DaemonSet');
    expect(privileged.spec?.template.spec?.containers[0]?.securityContext?.privileged).toBe(true);
  });

  it('profiles: the files of values `profiles` in the temper-profiles ConfigMap, mounted as a directory at the agent\'s --profiles-dir; a bad file name fails', async () => {
    const empty = await template({});
    expect(one<V1ConfigMap>(empty, 'ConfigMap', 'temper-profiles').data ?? {}).toEqual({}); // rendered anyway: adding a file is an edit, not a rollout
    const second = '[[profile]]\nname = "redis"\nimages = ["registry.example.com/cache/redis"]\n  [[profile.group]]\n  name = "bio"\n  treatment = "yield"\n  threads = ["bio_"]\n';
    const docs = await template({ profiles: { 'api.toml': API_PROFILE, 'zz-redis.toml': second } });
    const cm = one<V1ConfigMap>(docs, 'ConfigMap', 'temper-profiles');
    expect(cm.metadata?.namespace).toBe('temper-system');
    expect(cm.data).toEqual({ 'api.toml': API_PROFILE, 'zz-redis.toml': second });
    // what the agent reads is what core parses: the files are a valid set
    expect(parseProfileFiles(Object.entries(cm.data ?? {}).map(([name, text]) => ({ name, text }))).files.map((p) => p.name)).toEqual(['api', 'redis']);
    const pod = one<V1DaemonSet>(docs, 'DaemonSet').spec?.template.spec;
    const c = pod?.containers[0];
    expect(c?.args).toContain('--profiles-dir=/etc/temper/profiles');
    // a directory (no subPath, no items), so kubelet's atomic updates reach the agent
    expect(c?.volumeMounts?.find((m) => m.name === 'profiles')).toEqual({ name: 'profiles', mountPath: '/etc/temper/profiles', readOnly: true });
    expect(pod?.volumes?.find((v) => v.name === 'profiles')).toEqual({ name: 'profiles', configMap: { name: 'temper-profiles' } });
    await expect(template({ profiles: { 'api.yaml': API_PROFILE } })).rejects.toThrow("at '/profiles': additional properties 'api.yaml' not allowed");
    await expect(template({ profiles: { 'api.toml': 3 } })).rejects.toThrow("at '/profiles/api.toml': got number, want string");
  });

  it('the webhook: metrics on their own port, a NetworkPolicy opening 8443 and nothing else by default', async () => {
    const docs = await template({});
    const d = one<V1Deployment>(docs, 'Deployment').spec?.template.spec?.containers[0];
    expect(d?.args).toContain('--metrics-port=8080');
    expect(d?.ports?.map((p) => [p.name, p.containerPort])).toEqual([['https', 8443], ['metrics', 8080]]);
    const np = one(docs, 'NetworkPolicy') as Obj & { spec: Record<string, unknown> };
    expect(np.spec).toEqual({
      podSelector: { matchLabels: one<V1Deployment>(docs, 'Deployment').spec?.selector.matchLabels },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 8443, protocol: 'TCP' }] }],
    });
    const pinned = one(await template({ webhook: { networkPolicy: { apiServerCIDRs: ['10.0.0.10/32'], metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] } } }), 'NetworkPolicy') as Obj & { spec: { ingress: unknown } };
    expect(pinned.spec.ingress).toEqual([
      { ports: [{ port: 8443, protocol: 'TCP' }], from: [{ ipBlock: { cidr: '10.0.0.10/32' } }] },
      { ports: [{ port: 8080, protocol: 'TCP' }], from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
    ]);
    expect(all(await template({ webhook: { networkPolicy: { enabled: false } } }), 'NetworkPolicy')).toEqual([]);
  });

  it('namespace.create renders the namespace with its Pod Security level; image digests pin the images', async () => {
    expect(all(await template({}), 'Namespace')).toEqual([]);
    const ns = one(await template({ namespace: { create: true } }, { namespace: 'temper-psa' }), 'Namespace');
    expect(ns.metadata?.name).toBe('temper-psa');
    expect(ns.metadata?.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/enforce-version': 'latest' });
    const digest = `sha256:${'ab'.repeat(32)}`;
    const docs = await template({ agent: { image: { repository: 'r.example/agent', tag: 'ignored', digest } }, webhook: { image: { repository: 'r.example/webhook', digest } } });
    expect(one<V1DaemonSet>(docs, 'DaemonSet').spec?.template.spec?.containers[0]?.image).toBe(`r.example/agent@${digest}`);
    expect(one<V1Deployment>(docs, 'Deployment').spec?.template.spec?.containers[0]?.image).toBe(`r.example/webhook@${digest}`);
  });

  it('RBAC grants the agent and the webhook only what they use', async () => {
    const docs = await template({});
    const rules = (name: string): unknown => (one(docs, 'ClusterRole', name) as Obj & { rules: unknown }).rules;
    expect(rules('temper-agent')).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(rules('temper-webhook')).toEqual([{ apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: ['get', 'list', 'watch'] }]);
    expect(all(docs, 'Role')).toEqual([]);
    expect(all(docs, 'RoleBinding')).toEqual([]);
    // The admission policy allows exactly the annotations the agent writes.
    const vap = one(docs, 'ValidatingAdmissionPolicy') as Obj & { spec: { variables: { name: string; expression: string }[] } };
    expect(JSON.parse(vap.spec.variables.find((v) => v.name === 'temperKeys')?.expression ?? '')).toEqual(agentNodeAnnotations(defaultPolicy()));
  });

  it('certManager.enabled renders a Certificate and cert-manager CA injection instead of a generated Secret', async () => {
    const docs = await template({ certManager: { enabled: true } });
    expect(all(docs, 'Secret')).toEqual([]);
    const cert = one(docs, 'Certificate', 'temper-webhook') as Obj & { spec: Record<string, unknown> };
    expect(cert.spec).toMatchObject({ secretName: 'temper-webhook-tls', issuerRef: { name: 'temper-webhook-ca', kind: 'Issuer' } });
    expect(cert.spec.dnsNames).toContain('temper-webhook.temper-system.svc');
    expect(all(docs, 'Issuer').map((i) => i.metadata?.name)).toEqual(['temper-webhook-selfsigned', 'temper-webhook-ca']);
    const mwc = one(docs, 'MutatingWebhookConfiguration') as Obj & { webhooks: { clientConfig: Record<string, unknown> }[] };
    expect(mwc.metadata?.annotations?.['cert-manager.io/inject-ca-from']).toBe('temper-system/temper-webhook');
    expect(mwc.webhooks[0]?.clientConfig.caBundle).toBeUndefined();
    // An existing issuer: no private CA is created.
    const external = await template({ certManager: { enabled: true, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } } });
    expect(all(external, 'Issuer')).toEqual([]);
    expect((one(external, 'Certificate') as Obj & { spec: { issuerRef: unknown } }).spec.issuerRef).toEqual({ name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  });

  it.each([
    ['a non-integer priority', { config: { priority_mapping: { high: 1.5 } } }, "at '/config/priority_mapping/high': got number, want integer"],
    ['an unknown cgroup driver', { config: { node: { cgroup_driver: 'cgroupv1' } } }, "at '/config/node/cgroup_driver': value must be one of 'systemd', 'cgroupfs'"],
    ['negative reserved CPUs', { config: { node: { reserved_cpus: -1 } } }, "at '/config/node/reserved_cpus': minimum: got -1, want 0"],
    ['a misspelt key', { config: { node: { reserved_cpu: 2 } } }, "at '/config/node': additional properties 'reserved_cpu' not allowed"],
    ['a system- class name', { config: { naming: { priority_classes: { low: 'system-low' } } } }, "at '/config/naming/priority_classes/low'"],
    ['an unknown name set', { config: { naming: { names: 'tempr' } } }, "at '/config/naming/names': value must be one of 'infera', 'temper'"],
    ['a non-boolean migration', { config: { naming: { migration: 'sometimes' } } }, "at '/config/naming/migration': got string, want boolean"],
    ['an unknown layer', { config: { layers: { gold: { slice_us: 1000 } } } }, "at '/config/layers': additional properties 'gold' not allowed"],
    ['a slice below scx_layered\'s minimum', { config: { layers: { high: { slice_us: 10 } } } }, "at '/config/layers/high/slice_us': minimum: got 10, want 100"],
    ['a webhook timeout above 30 s', { webhook: { timeoutSeconds: 31 } }, "at '/webhook/timeoutSeconds': maximum: got 31, want 30"],
    ['a port out of range', { agent: { httpPort: 70000 } }, "at '/agent/httpPort': maximum"],
    ['an image digest that is not sha256', { agent: { image: { repository: 'r', digest: 'latest' } } }, "at '/agent/image/digest'"],
    ['a certificate valid for years', { webhook: { tls: { validityDays: 3650 } } }, "at '/webhook/tls/validityDays': maximum"],
    ['an unknown recursiveReadOnly mode', { agent: { recursiveReadOnly: 'Always' } }, "at '/agent/recursiveReadOnly'"],
  ])('values.schema.json rejects %s, naming the field', async (_what, values, message) => {
    await expect(template(values)).rejects.toThrow(message);
  });

  it.each([
    ['thresholds out of order', { priority_mapping: { high: 2000000 } }, '[priority_mapping]\nhigh = 2000000\n'],
    ['system not above critical', { priority_mapping: { system: 1000000 } }, '[priority_mapping]\nsystem = 1000000\n'],
    ['util_range on an Open layer', { layers: { low: { util_range: [0.1, 0.2] } } }, '[layers.low]\nutil_range = [0.1, 0.2]\n'],
    ['two tiers sharing a class', { naming: { priority_classes: { low: 'infera-normal' } } }, '[naming.priority_classes]\nlow = "infera-normal"\n'],
    ['in migration mode, the other set\'s class of another tier', { naming: { names: 'temper', migration: true, priority_classes: { low: 'infera-normal' } } }, '[naming]\nnames = "temper"\nmigration = true\n[naming.priority_classes]\nlow = "infera-normal"\n'],
  ])('rejects %s with the agent\'s own message', async (_what, config, toml) => {
    let agentMessage = '';
    try {
      parsePolicy(toml, 'x');
    } catch (err) {
      agentMessage = (err as ConfigError).lines[0]?.replace(/^x: /, '') ?? '';
    }
    expect(agentMessage).not.toBe('');
    await expect(template({ config })).rejects.toThrow(`config.${agentMessage}`);
  });
});

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000, log = (): string => ''): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log().slice(-3000)}`);
    await sleep(200);
  }
}

/** A kubeconfig for the shared control plane that authenticates with `token`. */
function tokenKubeConfig(token: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('admin kubeconfig has no cluster');
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [cluster], users: [{ name: 'sa', token }],
    contexts: [{ name: 'sa', cluster: cluster.name, user: 'sa' }], currentContext: 'sa',
  });
  return out;
}

function writeKubeconfig(k: KubeConfig, name: string): string {
  const path = join(work, name);
  writeFileSync(path, k.exportConfig());
  return path;
}

interface Proc { child: ChildProcess; log: () => string; stop(): Promise<void> }

function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => { log += c; });
  return {
    child, log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      await exited;
    },
  };
}

/** Replaces `--flag=value` arguments (as the chart writes them) with local values. */
function localArgs(args: string[], overrides: Record<string, string>): string[] {
  return args.map((a) => {
    const flag = a.split('=')[0] ?? a;
    return flag in overrides ? `${flag}=${overrides[flag]}` : a;
  });
}

async function expectDenied(p: Promise<unknown>, message: string): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, 'the request was allowed').toBeInstanceOf(ApiException);
  const e = err as ApiException<unknown>;
  expect(e.code).toBe(403);
  expect(String(e.body)).toContain(message);
}

describe('helm chart on the real control plane', () => {
  const release = `temper-${suffix}`;
  const ns = `chart-${suffix}`;
  const workloads = `chart-pods-${suffix}`;
  const nodeA = `chart-a-${suffix}`;
  const nodeB = `chart-b-${suffix}`;
  const agentSA = `${release}-agent`;
  const webhookSA = `${release}-webhook`;
  const policy = customPolicy(ns);
  const [distributionKey, statusKey] = agentNodeAnnotations(policy) as [string, string];
  const objects = KubernetesObjectApi.makeApiClient(kc);
  let docs: Obj[] = [];
  let port = 0;
  let agentPod: V1Pod;
  let agentToken = '';
  const procs: Proc[] = [];

  // With the ownership metadata `helm install` adds, so that helm later sees its own release.
  const apply = async (list: Obj[], dryRun?: 'All'): Promise<void> => {
    for (const o of list) {
      const metadata = {
        ...o.metadata,
        labels: { ...o.metadata?.labels, 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: { ...o.metadata?.annotations, 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': ns },
      };
      await objects.patch({ ...o, metadata }, undefined, dryRun, 'temper-chart-test', true, PatchStrategy.ServerSideApply);
    }
  };

  async function tokenFor(serviceAccount: string, pod?: V1Pod): Promise<string> {
    const boundObjectRef = pod === undefined ? undefined : { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, uid: pod.metadata?.uid };
    const tr = await core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace: ns, body: { spec: { audiences: [], expirationSeconds: 600, boundObjectRef } } });
    return tr.status?.token ?? '';
  }

  beforeAll(async () => {
    const linux = { 'kubernetes.io/os': 'linux' };
    for (const [name, labels] of [[nodeA, { ...linux, 'temper-chart-test': suffix }], [nodeB, linux]] as const) {
      const resources = { cpu: '4', memory: '8Gi', pods: '110' };
      await core.createNode({ body: { metadata: { name, labels }, status: { capacity: resources, allocatable: resources } } });
    }
    await ensureNamespace(kc, ns);
    await ensureNamespace(kc, workloads);
    port = await freePort();
    // The webhook runs here, outside the cluster: register it by URL, with 127.0.0.1 in its certificate.
    const values = customValues();
    values.webhook = { ...(values.webhook as Values), url: `https://127.0.0.1:${port}/mutate`, tls: { extraIPs: ['127.0.0.1'] } };
    docs = await template(values, { release, namespace: ns });
    await apply(docs);
    // The DaemonSet controller puts the agent pod on the canary node only (it stays Pending: no kubelet).
    agentPod = await until('the agent pod on the canary node', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/name=temper-agent' })).items;
      return pods.length > 0 ? pods : undefined;
    }).then((pods) => {
      expect(pods.map((p) => p.spec?.nodeName ?? p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0])).toEqual([nodeA]);
      return pods[0] as V1Pod;
    });
    // kube-scheduler binds it (the DaemonSet pins it with node affinity); the token needs spec.nodeName.
    agentPod = await until('the agent pod bound to its node', async () => {
      const p = await core.readNamespacedPod({ name: agentPod.metadata?.name ?? '', namespace: ns });
      return p.spec?.nodeName === nodeA ? p : undefined;
    });
    agentToken = await tokenFor(agentSA, agentPod);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const scheduling = kc.makeApiClient(SchedulingV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const quietly = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);
    // Cluster-wide objects first: the webhook registration affects every other test's pods.
    await quietly(admission.deleteMutatingWebhookConfiguration({ name: webhookConfigurationName(releaseFullname(release)) }));
    await quietly(admission.deleteValidatingAdmissionPolicyBinding({ name: `${agentSA}-own-node` }));
    await quietly(admission.deleteValidatingAdmissionPolicy({ name: `${agentSA}-own-node` }));
    for (const name of [agentSA, webhookSA]) {
      await quietly(rbac.deleteClusterRoleBinding({ name }));
      await quietly(rbac.deleteClusterRole({ name }));
    }
    for (const name of Object.values(policy.naming.priorityClasses)) await quietly(scheduling.deletePriorityClass({ name }));
    // Pods on nodes without a kubelet never finish terminating: delete their owners, then force.
    await quietly(apps.deleteNamespacedDaemonSet({ name: agentSA, namespace: ns }));
    await quietly(apps.deleteNamespacedDeployment({ name: webhookSA, namespace: ns }));
    await quietly(apps.deleteCollectionNamespacedReplicaSet({ namespace: ns }));
    for (let i = 0; i < 10; i++) {
      for (const namespace of [ns, workloads]) await quietly(core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }));
      await sleep(300);
    }
    for (const name of [ns, workloads]) await quietly(core.deleteNamespace({ name }));
    for (const name of [nodeA, nodeB]) await quietly(core.deleteNode({ name }));
  }, 120_000);

  it('applies with server-side apply; the admission policy type-checks cleanly', async () => {
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    const vap = await until('the policy to be type-checked', async () => {
      const p = await admission.readValidatingAdmissionPolicy({ name: `${agentSA}-own-node` });
      return p.status?.observedGeneration === p.metadata?.generation ? p : undefined;
    });
    expect(vap.status?.typeChecking?.expressionWarnings ?? []).toEqual([]);
    const pcs = await kc.makeApiClient(SchedulingV1Api).listPriorityClass();
    const ours = pcs.items.filter((pc) => pc.metadata?.name?.startsWith(`c${suffix}-`)).map((pc) => [pc.metadata?.name, pc.value, pc.preemptionPolicy]);
    expect(ours.sort()).toEqual(priorityClassObjects(policy).map((pc) => [(pc.metadata as { name: string }).name, pc.value, pc.preemptionPolicy]).sort());
  });

  it('the default values apply too (server-side dry run in a fresh namespace)', async () => {
    const dryNs = `chart-dry-${suffix}`;
    await ensureNamespace(kc, dryNs);
    try {
      await apply(await template({}, { release: 'temper', namespace: dryNs }), 'All');
    } finally {
      await core.deleteNamespace({ name: dryNs });
    }
  });

  it('helm install --dry-run=server renders against the cluster, reuses the installed certificate and prints NOTES', async () => {
    const r = await run(helmBin, ['upgrade', '--install', '--dry-run=server', release, chart, '--namespace', ns, '-f', valuesFile({
      ...customValues(), webhook: { timeoutSeconds: 5, url: `https://127.0.0.1:${port}/mutate`, tls: { extraIPs: ['127.0.0.1'] } },
    })], { KUBECONFIG: kubeconfig });
    expect(r.code, r.stderr).toBe(0);
    const installed = await core.readNamespacedSecret({ name: `${release}-webhook-tls`, namespace: ns });
    const manifest = r.stdout.slice(r.stdout.indexOf('MANIFEST:') + 9, r.stdout.indexOf('NOTES:'));
    const secret = one<V1Secret>(parseAllDocuments(manifest).map((d) => d.toJS() as Obj).filter(Boolean), 'Secret');
    expect(secret.data?.['ca.crt']).toBe(installed.data?.['ca.crt']);
    expect(secret.data?.['tls.key']).toBe(installed.data?.['tls.key']);
    // Rendered against the installed release, the registration trusts only the installed CA.
    const mwc = one(parseAllDocuments(manifest).map((d) => d.toJS() as Obj).filter(Boolean), 'MutatingWebhookConfiguration') as Obj & { webhooks: { clientConfig: { caBundle: string } }[] };
    expect(mwc.webhooks[0]?.clientConfig.caBundle).toBe(installed.data?.['ca.crt']);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    expect(notes).toContain('kubectl temper tiers -A');
    expect(notes).toContain(`{.metadata.annotations.t${suffix}\\.example\\.io/agent-status}`);
    expect(notes).toContain('--config temper.toml'); // not installed in temper-system
  });

  it('a second release: refused the first one\'s PriorityClasses and cluster-wide names, each naming the fix; with priorityClasses.create=false it installs beside it', async () => {
    const otherNs = `chart-other-${suffix}`;
    await ensureNamespace(kc, otherNs);
    const dryRun = (name: string, namespace: string, values: Values): ReturnType<typeof run> =>
      run(helmBin, ['upgrade', '--install', '--dry-run=server', name, chart, '--namespace', namespace, '-f', valuesFile(values)], { KUBECONFIG: kubeconfig });
    const shared = { ...customValues(), priorityClasses: { create: false } };
    try {
      // customValues() names the classes the first release installed.
      const taken = await dryRun('other', otherNs, customValues());
      expect(taken.code).not.toBe(0);
      expect(taken.stderr).toContain(`PriorityClass c${suffix}-critical already exists, installed by Helm release ${ns}/${release}`);
      expect(taken.stderr).toContain('install this one with priorityClasses.create=false');
      // Using them instead, nothing it installs is the first release's: Helm's own ownership check passes too.
      const beside = await dryRun('other', otherNs, shared);
      expect(beside.code, beside.stderr).toBe(0);
      const rendered = parseAllDocuments(beside.stdout.slice(beside.stdout.indexOf('MANIFEST:') + 9, beside.stdout.indexOf('NOTES:'))).map((d) => d.toJS() as Obj).filter(Boolean);
      expect(all(rendered, 'PriorityClass')).toEqual([]);
      expect(one(rendered, 'MutatingWebhookConfiguration').metadata?.name).toBe(webhookConfigurationName(releaseFullname('other')));
      expect(beside.stdout).toContain('This release installs no PriorityClasses');
      // The same release name in another namespace has the same fullname, so the same cluster-wide names.
      const sameName = await dryRun(release, otherNs, shared);
      expect(sameName.code).not.toBe(0);
      expect(sameName.stderr).toContain(`MutatingWebhookConfiguration ${webhookConfigurationName(releaseFullname(release))} already exists, installed by Helm release ${ns}/${release}`);
      expect(sameName.stderr).toContain('set fullnameOverride');
      expect((await dryRun(release, otherNs, { ...shared, fullnameOverride: `other-${suffix}` })).code).toBe(0);
      // Sharing the classes needs the same thresholds, and the classes themselves.
      const config = customValues().config as { priority_mapping: Record<string, unknown>; naming: Record<string, unknown> };
      const lower = await dryRun('other', otherNs, { ...shared, config: { ...config, priority_mapping: { ...config.priority_mapping, high: 60000 } } });
      expect(lower.stderr).toContain(`PriorityClass c${suffix}-high has value 50000 (PreemptLowerPriority), but this release's config.priority_mapping gives its tier 60000`);
      const classes = Object.fromEntries(['critical', 'high', 'normal', 'low', 'background'].map((tier) => [tier, `m${suffix}-${tier}`]));
      const missing = await dryRun('other', otherNs, { ...shared, config: { ...config, naming: { ...config.naming, priority_classes: classes } } });
      expect(missing.stderr).toContain(`priorityClasses.create=false: PriorityClass m${suffix}-critical does not exist`);
      // The release that installed the classes may not drop them: Helm would delete them under the pods.
      const dropping = await dryRun(release, ns, { ...shared, webhook: { timeoutSeconds: 5, url: `https://127.0.0.1:${port}/mutate`, tls: { extraIPs: ['127.0.0.1'] } } });
      expect(dropping.stderr).toContain(`PriorityClass c${suffix}-critical was installed by this release, and Helm would delete it`);
    } finally {
      await core.deleteNamespace({ name: otherNs }).catch(() => undefined);
    }
  });

  it('helm upgrade renews a certificate near expiry; the caBundle then trusts the new and the replaced CA', async () => {
    const name = `${release}-webhook-tls`;
    const installed = await core.readNamespacedSecret({ name, namespace: ns });
    const soon = Math.floor(Date.now() / 1000) + 10 * 86_400; // inside the default 30 renewal days
    await core.patchNamespacedSecret({ name, namespace: ns, body: { metadata: { annotations: { 'temper.infera.io/certificate-expires': String(soon) } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    try {
      const r = await run(helmBin, ['upgrade', '--install', '--dry-run=server', release, chart, '--namespace', ns, '-f', valuesFile({
        ...customValues(), webhook: { timeoutSeconds: 5, url: `https://127.0.0.1:${port}/mutate`, tls: { extraIPs: ['127.0.0.1'] } },
      })], { KUBECONFIG: kubeconfig });
      expect(r.code, r.stderr).toBe(0);
      const rendered = parseAllDocuments(r.stdout.slice(r.stdout.indexOf('MANIFEST:') + 9, r.stdout.indexOf('NOTES:'))).map((d) => d.toJS() as Obj).filter(Boolean);
      const secret = one<V1Secret>(rendered, 'Secret');
      expect(secret.data?.['ca.crt']).not.toBe(installed.data?.['ca.crt']);
      expect(secret.data?.['tls.key']).not.toBe(installed.data?.['tls.key']);
      const bundle = pem((one(rendered, 'MutatingWebhookConfiguration') as Obj & { webhooks: { clientConfig: { caBundle: string } }[] }).webhooks[0]?.clientConfig.caBundle);
      const cas = bundle.split(/(?<=-----END CERTIFICATE-----\n?)/).filter((c) => c.includes('BEGIN')).map((c) => new X509Certificate(c));
      expect(cas.map((c) => c.fingerprint256)).toEqual([new X509Certificate(pem(secret.data?.['ca.crt'])).fingerprint256, new X509Certificate(pem(installed.data?.['ca.crt'])).fingerprint256]);
      // The old serving certificate still verifies against the bundle, and so does the new one.
      expect(new X509Certificate(pem(installed.data?.['tls.crt'])).verify(cas[1]?.publicKey as never)).toBe(true);
      expect(new X509Certificate(pem(secret.data?.['tls.crt'])).verify(cas[0]?.publicKey as never)).toBe(true);
    } finally {
      await core.patchNamespacedSecret({ name, namespace: ns, body: { metadata: { annotations: { 'temper.infera.io/certificate-expires': installed.metadata?.annotations?.['temper.infera.io/certificate-expires'] ?? null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }
  });

  it('the agent\'s pod-bound token carries its node, and RBAC gives it nothing beyond its role', async () => {
    const agentKc = tokenKubeConfig(agentToken);
    const review = await agentKc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns}:${agentSA}`);
    expect(review.status?.userInfo?.extra?.['authentication.kubernetes.io/node-name']).toEqual([nodeA]);
    const authz = agentKc.makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, resource: string, group = '', subresource?: string): Promise<boolean> =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, group, subresource } } } })).status?.allowed ?? false;
    const checks = [
      ['patch', 'nodes'], ['watch', 'pods'], ['list', 'nodes'], ['watch', 'priorityclasses', 'scheduling.k8s.io'],
      ['update', 'nodes', '', 'status'], ['delete', 'nodes'], ['create', 'pods'], ['get', 'secrets'], ['get', 'configmaps'], ['patch', 'pods'],
    ] as const;
    const got = await Promise.all(checks.map(([verb, resource, group, sub]) => can(verb, resource, group, sub)));
    expect(got).toEqual([true, true, true, true, false, false, false, false, false, false]);
  });

  it('the admission policy lets the agent change only Temper\'s annotations on its own Node', async () => {
    const agentCore = tokenKubeConfig(agentToken).makeApiClient(CoreV1Api);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const patch = (name: string, metadata: Record<string, unknown>): Promise<unknown> => agentCore.patchNode({ name, body: { metadata } }, merge);
    // A type-checked policy is not yet an enforced one: the API server loads bindings
    // asynchronously. Wait until the first denial before asserting anything.
    await until('the policy to be enforced', () => patch(nodeB, { annotations: { [statusKey]: '{}' } }).then(() => false, (e: unknown) => e instanceof ApiException && e.code === 403), 30_000);
    await expectDenied(patch(nodeB, { annotations: { [statusKey]: '{}' } }), `the Temper agent on node ${nodeA} may only modify its own Node, not ${nodeB}`);
    await expectDenied(patch(nodeA, { annotations: { 'example.com/other': 'x' } }), `may only change the annotations ${distributionKey}, ${statusKey}`);
    await expectDenied(patch(nodeA, { annotations: { [statusKey]: '{}', 'example.com/other': 'x' } }), 'may only change the annotations');
    await expectDenied(patch(nodeA, { labels: { 'temper-chart-test': 'moved' } }), 'may not change its Node\'s labels');
    await expectDenied(agentCore.patchNode({ name: nodeA, body: { spec: { unschedulable: true } } }, merge), 'may not change its Node\'s labels, finalizers, owners or spec');
    // An admin's annotation is not the agent's to remove either.
    await core.patchNode({ name: nodeA, body: { metadata: { annotations: { 'example.com/admin': 'keep' } } } }, merge);
    await expectDenied(patch(nodeA, { annotations: { 'example.com/admin': null } }), 'may only change the annotations');

    await patch(nodeA, { annotations: { [statusKey]: '{"state":"starting"}', [distributionKey]: 'x' } });
    await patch(nodeA, { annotations: { [distributionKey]: null } });
    const node = await core.readNode({ name: nodeA });
    expect(node.metadata?.annotations?.[statusKey]).toBe('{"state":"starting"}');
    expect(node.metadata?.annotations?.[distributionKey]).toBeUndefined();

    // A token that names no node (not bound to a pod) may not patch any Node.
    const unbound = tokenKubeConfig(await tokenFor(agentSA)).makeApiClient(CoreV1Api);
    await expectDenied(unbound.patchNode({ name: nodeA, body: { metadata: { annotations: { [statusKey]: '{}' } } } }, merge), 'its token names no node');
    // Other identities are not subject to the policy.
    await core.patchNode({ name: nodeB, body: { metadata: { labels: { 'temper-chart-test-admin': 'ok' } } } }, merge);
  });

  it('the agent runs from the chart: its config, args and bound token; it publishes on its Node as the policy allows', async () => {
    const ds = one<V1DaemonSet>(docs, 'DaemonSet');
    const container = ds.spec?.template.spec?.containers[0];
    const cm = await core.readNamespacedConfigMap({ name: 'temper-config', namespace: ns });
    const dir = mkdtempSync(join(work, 'agent-'));
    writeFileSync(join(dir, 'config.toml'), cm.data?.['config.toml'] ?? '');
    const [, ...nodeFlags] = container?.command ?? [];
    const script = nodeFlags.pop() ?? '';
    expect(script).toBe('/opt/temper/agent/main.ts');
    // The image's paths become local ones; no sched_ext here, so the agent reports `unavailable`.
    const profiles = await core.readNamespacedConfigMap({ name: 'temper-profiles', namespace: ns });
    mkdirSync(join(dir, 'profiles'));
    for (const [name, text] of Object.entries(profiles.data ?? {})) writeFileSync(join(dir, 'profiles', name), text);
    const args = localArgs(container?.args ?? [], {
      '--config': join(dir, 'config.toml'), '--profiles-dir': join(dir, 'profiles'), '--state-dir': join(dir, 'state'), '--sched-ext-dir': join(dir, 'no-sched-ext'),
      '--grpc-address': `unix://${join(dir, 'agent.sock')}`, '--http-port': '0', '--probe-port': '0',
    });
    const agent = startProcess([...nodeFlags, join(repo, 'agent', 'main.ts'), '--kubeconfig', writeKubeconfig(tokenKubeConfig(agentToken), 'agent.kubeconfig'), ...args],
      { NODE_NAME: nodeA, POD_NAME: agentPod.metadata?.name ?? '', POD_NAMESPACE: ns });
    procs.push(agent);
    const url = await until('the agent to listen', async () => /"msg":"agent running".*?"http":"([^"]+)"/.exec(agent.log())?.[1], 30_000, agent.log);
    const status = await until('the agent status on its Node', async () => {
      const raw = (await core.readNode({ name: nodeA })).metadata?.annotations?.[statusKey];
      const s = raw === undefined ? undefined : JSON.parse(raw) as { state: string; generation: number };
      return s !== undefined && s.state === 'unavailable' && s.generation > 0 ? s : undefined;
    }, 30_000, agent.log);
    expect(status.state).toBe('unavailable');
    const node = await core.readNode({ name: nodeA });
    expect(node.metadata?.annotations?.[distributionKey]).toBeTruthy();
    expect(node.metadata?.annotations?.['example.com/admin']).toBe('keep');
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // Its own pod (Temper's namespace, system-node-critical) is listed through its RBAC.
    const pods = await (await fetch(`${url}/api/v1/pods`)).json() as { name: string; tier: string }[];
    expect(pods.map((p) => [p.name, p.tier])).toEqual([[agentPod.metadata?.name, 'system']]);
    expect(agent.log()).not.toContain('patch failed');
    expect(agent.log()).toMatch(/"msg":"profiles loaded".*"files":"api\.toml"/);
  });

  it('the webhook runs from the chart: its certificate, config and token; the chart\'s registration defaults pods', async () => {
    const deployment = one<V1Deployment>(docs, 'Deployment');
    const container = deployment.spec?.template.spec?.containers[0];
    const cm = await core.readNamespacedConfigMap({ name: 'temper-config', namespace: ns });
    const secret = await core.readNamespacedSecret({ name: `${release}-webhook-tls`, namespace: ns });
    const dir = mkdtempSync(join(work, 'webhook-'));
    writeFileSync(join(dir, 'config.toml'), cm.data?.['config.toml'] ?? '');
    writeFileSync(join(dir, 'tls.crt'), pem(secret.data?.['tls.crt']));
    writeFileSync(join(dir, 'tls.key'), pem(secret.data?.['tls.key']));
    const metricsPort = await freePort();
    const args = localArgs(container?.args ?? [], {
      '--config': join(dir, 'config.toml'), '--tls-cert': join(dir, 'tls.crt'), '--tls-key': join(dir, 'tls.key'), '--host': '127.0.0.1', '--port': String(port), '--metrics-port': String(metricsPort),
    });
    const webhook = startProcess([join(repo, 'webhook', 'main.ts'), '--kubeconfig', writeKubeconfig(tokenKubeConfig(await tokenFor(webhookSA)), 'webhook.kubeconfig'), ...args]);
    procs.push(webhook);
    const caPem = pem(secret.data?.['ca.crt']);
    await until('the webhook to be ready', async () => (await httpsGet(`https://127.0.0.1:${port}/readyz`, caPem)).status === 200, 30_000, webhook.log);

    const podBody = (name: string, labels: Record<string, string> = {}): V1Pod =>
      ({ metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } }) as V1Pod;
    const background = policy.naming.priorityClasses.background;
    const pod = await until('a pod defaulted through the chart\'s registration', async () => {
      const p = await core.createNamespacedPod({ namespace: workloads, body: podBody(`be-${randomBytes(3).toString('hex')}`) });
      return p.spec?.priorityClassName === background ? p : undefined;
    }, 30_000, webhook.log);
    expect([pod.spec?.priorityClassName, pod.spec?.priority, pod.spec?.preemptionPolicy]).toEqual([background, -201, 'Never']);
    // The configured opt-out label and Temper's own namespace are skipped.
    const optOut = await core.createNamespacedPod({ namespace: workloads, body: podBody('opted-out', { [`t${suffix}.example.io/qos-defaulting`]: 'disabled' }) });
    expect(optOut.spec?.priorityClassName ?? '').toBe('');
    const own = await core.createNamespacedPod({ namespace: ns, body: podBody('own') });
    expect(own.spec?.priorityClassName ?? '').toBe('');
    // Metrics on their own plain-HTTP port only (the NetworkPolicy opens the two ports to different clients).
    expect(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).toMatch(/temper_webhook_admissions_total\{outcome="mutated"\} [1-9]/);
    expect((await httpsGet(`https://127.0.0.1:${port}/metrics`, caPem)).status).toBe(404);
  });
});

// Drops every capability but the listed ones (numbers) from the bounding, permitted, effective
// and inheritable sets, as a container runtime does for a root container, then execs.
const CAPDROP_C = String.raw`#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  unsigned long long keep = 0;
  if (argc < 3) return 2;
  for (char *t = strtok(argv[1], ","); t; t = strtok(NULL, ",")) keep |= 1ULL << atoi(t);
  for (int c = 0; c < 64; c++) if (!(keep & (1ULL << c))) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  d[0].effective = d[0].permitted = d[0].inheritable = (unsigned)(keep & 0xffffffffu);
  d[1].effective = d[1].permitted = d[1].inheritable = (unsigned)(keep >> 32);
  if (syscall(SYS_capset, &h, d) != 0) { perror("capset"); return 1; }
  execvp(argv[2], argv + 2);
  perror("exec");
  return 127;
}
`;
const CAP_NUMBERS: Record<string, number> = { SYS_ADMIN: 21, PERFMON: 38, BPF: 39 };

const vm = vmAvailability();
if (!vm.ok) console.warn(`chart.test.ts: the capability check in the sched_ext VM is skipped: ${vm.reason}`);

describe.skipIf(!vm.ok)('the agent\'s capabilities against the real scx_layered in the sched_ext VM', () => {
  it('scx_layered loads with exactly the chart\'s capabilities (and with CAP_BPF + CAP_PERFMON alone), not with CAP_BPF alone', async () => {
    const chartCaps = (one<V1DaemonSet>(await template({}), 'DaemonSet').spec?.template.spec?.containers[0]?.securityContext?.capabilities?.add ?? []);
    expect(chartCaps.every((c) => c in CAP_NUMBERS)).toBe(true);
    const sets = [chartCaps, ['BPF', 'PERFMON'], ['BPF']];
    writeFileSync(join(work, 'capdrop.c'), CAPDROP_C);
    execFileSync('cc', ['-static', '-O2', '-o', join(work, 'capdrop'), join(work, 'capdrop.c')], { stdio: 'inherit' });
    const uid = '0f1e2d3c_4b5a_4968_8776_a5b4c3d2e1f0';
    const podSlice = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid}.slice`;
    // What the agent renders: a comm match for itself, pods by cgroup prefix and by regex (the
    // inotify watcher over /sys/fs/cgroup), and the catch-all.
    const config = [
      { name: 'system', matches: [[{ PcommPrefix: 'temper-agent' }]], kind: { Grouped: { util_range: [0.0, 0.5], cpus_range: [1, 1], slice_us: 5000 } } },
      { name: 'normal', matches: [[{ CgroupPrefix: `${podSlice}/` }], [{ CgroupRegex: '^/sys/fs/cgroup/kubepods\\.slice/.*-pod[0-9a-f_]+\\.slice/.*$' }]], kind: { Grouped: { util_range: [0.6, 0.9], cpus_range: [1, 2], slice_us: 20000 } } },
      { name: 'catchall', matches: [[]], kind: { Open: { slice_us: 20000 } } },
    ];
    const script = String.raw`
chmod +x /bin/capdrop
mkdir -p /sys/fs/cgroup/${podSlice}
for SET in ${sets.map((set) => set.map((c) => CAP_NUMBERS[c]).join(',')).join(' ')}; do
  capdrop $SET scx_layered f:/layered.json > /tmp/scx.log 2>&1 &
  SCX=$!
  for i in $(seq 1 600); do
    [ "$(cat /sys/kernel/sched_ext/state)" = enabled ] && break
    kill -0 $SCX 2>/dev/null || break
    sleep 0.1
  done
  echo "CAPS=$SET STATE=$(cat /sys/kernel/sched_ext/state) ERROR=$(grep -m1 '^Error' /tmp/scx.log)"
  kill -INT $SCX 2>/dev/null; wait $SCX
done
true
`;
    const r = await runInVm({ files: { '/layered.json': JSON.stringify(config), '/bin/capdrop': readFileSync(join(work, 'capdrop')) }, script, timeoutMs: 360_000, logName: 'chart-caps' });
    expect(r.exitCode, r.output.slice(-3000)).toBe(0);
    const results = [...r.output.matchAll(/^CAPS=(\S+) STATE=(\S+) ERROR=(.*)$/gm)].map((m) => [m[2], m[3]]);
    expect(results).toEqual([['enabled', ''], ['enabled', ''], ['disabled', 'Error: Failed to load BPF program']]);
  }, 400_000);
});
