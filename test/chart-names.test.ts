// Two releases of the chart on one cluster (`helm install a -n ns-a` and `helm install b -n ns-b`,
// or the rename migration run as an `infera` and a `temper` release) must not share an object:
// every cluster-scoped object, and every object in a namespace the release does not own
// (kube-system), is named after the release's fullname. The PriorityClasses are the one exception
// (docs/decisions.md §56): pods and the webhook name them, so every release uses the same ones and
// only one installs them; the others set priorityClasses.create=false. Rendered with the real helm
// for every values combination the other chart tests use. The chart's checks against a live
// cluster (an existing class or webhook registration of another release) are in chart.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { parsePolicy } from '../core/config.ts';
import { installedClassNames, releaseFullname, webhookConfigurationName } from '../core/names.ts';
import { ensureHelm } from '../dev/install-helm.ts';
import { runCommand as run } from './run-command.ts';

const chart = join(import.meta.dirname, '..', 'manifests', 'chart', 'temper');
const work = mkdtempSync(join(tmpdir(), 'temper-chart-names-'));
let helmBin = '';

type Obj = KubernetesObject & Record<string, unknown>;
type Values = Record<string, unknown>;

// Every kind the chart renders, by scope. A kind in neither list fails the test: a new template
// must be classified here, and a new cluster-scoped one is then held to the naming rule.
const CLUSTER_SCOPED = new Set(['Namespace', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
const NAMESPACED = new Set(['ServiceAccount', 'ConfigMap', 'Secret', 'Service', 'Deployment', 'DaemonSet', 'PodDisruptionBudget', 'NetworkPolicy', 'Role', 'RoleBinding', 'Certificate', 'Issuer']);

let files = 0;
async function template(release: string, namespace: string, values: Values): Promise<Obj[]> {
  const file = join(work, `values-${files++}.yaml`);
  writeFileSync(file, stringify(values));
  const r = await run(helmBin, ['template', release, chart, '--namespace', namespace, '-f', file]);
  if (r.code !== 0) throw new Error(`helm template ${release} -n ${namespace}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
}

/** `kind/namespace/name`, the identity of an object on a cluster (namespace empty when cluster-scoped). */
const identity = (o: Obj): string => `${o.kind ?? ''}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The rule for one release's render: kinds classified, scopes right, cluster-scoped names derived from the fullname. */
function expectReleaseScoped(docs: Obj[], release: string, namespace: string, fullname = releaseFullname(release)): void {
  const unclassified = docs.filter((o) => !CLUSTER_SCOPED.has(o.kind ?? '') && !NAMESPACED.has(o.kind ?? '')).map(identity);
  expect(unclassified, 'kinds this test does not know the scope of').toEqual([]);
  for (const o of docs.filter((d) => NAMESPACED.has(d.kind ?? ''))) {
    expect(o.metadata?.namespace, identity(o)).toBeTruthy();
    // Outside its own namespace (kube-system) an object is shared ground, like a cluster-scoped one.
    if (o.metadata?.namespace !== namespace) expect(o.metadata?.name, identity(o)).toMatch(new RegExp(`^${fullname}-`));
  }
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'temper-config') as { data: Record<string, string> } | undefined;
  const classes = new Set(installedClassNames(parsePolicy(cm?.data['config.toml'] ?? '', 'temper-config')).map((c) => c.name));
  for (const o of docs.filter((d) => CLUSTER_SCOPED.has(d.kind ?? ''))) {
    const name = o.metadata?.name ?? '';
    expect(o.metadata?.namespace, `${identity(o)} is cluster-scoped`).toBeUndefined();
    if (o.kind === 'PriorityClass') expect(classes.has(name), `${name} is one of the configured classes`).toBe(true);
    else if (o.kind === 'Namespace') expect(name).toBe(namespace);
    else expect(name === fullname || name.startsWith(`${fullname}-`), `${o.kind} ${name} is named after the fullname ${fullname}`).toBe(true);
  }
  const mwc = docs.filter((d) => d.kind === 'MutatingWebhookConfiguration').map((d) => d.metadata?.name);
  expect(mwc).toEqual([webhookConfigurationName(fullname)]);
}

const shared = (a: Obj[], b: Obj[]): string[] => {
  const ids = new Set(a.map(identity));
  return b.map(identity).filter((id) => ids.has(id)).sort();
};

const classNames = (docs: Obj[]): string[] => docs.filter((d) => d.kind === 'PriorityClass').map((d) => `PriorityClass//${d.metadata?.name ?? ''}`).sort();

beforeAll(async () => {
  helmBin = await ensureHelm(); // cached by `node dev/install-helm.ts`; minutes when cold
}, 900_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('chart: two releases on one cluster', () => {
  // The values combinations of chart.test.ts and chart-scheduler.test.ts.
  const classes = { critical: 'gold-critical', high: 'gold-high', normal: 'gold-normal', low: 'gold-low', background: 'gold-background' };
  it.each<[string, Values]>([
    ['the defaults', {}],
    ['a custom prefix and custom classes', { config: { naming: { annotation_prefix: 'qos.example.io', priority_classes: classes } } }],
    ['replace_global_default', { config: { webhook: { replace_global_default: true } } }],
    ['the temper names', { config: { naming: { names: 'temper' } } }],
    ['the temper names in migration mode', { config: { naming: { names: 'temper', migration: true } } }],
    ['the infera names in migration mode', { config: { naming: { names: 'infera', migration: true } } }],
    ['scheduler.enabled', { scheduler: { enabled: true } }],
    ['scheduler.enabled without schedulerName defaulting', { scheduler: { enabled: true, setSchedulerNameForCritical: false } }],
    ['certManager.enabled', { certManager: { enabled: true } }],
    ['certManager with a ClusterIssuer', { certManager: { enabled: true, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } } }],
    ['namespace.create', { namespace: { create: true } }],
    ['a webhook registered by URL', { webhook: { url: 'https://127.0.0.1:9443/mutate', tls: { extraIPs: ['127.0.0.1'] } } }],
    ['everything at once', { scheduler: { enabled: true }, certManager: { enabled: true }, namespace: { create: true }, config: { naming: { names: 'temper', migration: true } } }],
  ])('%s: no two releases share a cluster-wide object but the PriorityClasses, and a second release without them shares none', async (_what, values) => {
    const [first, renamed] = await Promise.all([template('temper', 'temper-system', values), template('infera', 'infera-system', values)]);
    // Two releases that both install the classes share exactly those (the documented exception).
    expect(classNames(first).length).toBeGreaterThanOrEqual(5);
    expect(shared(first, renamed)).toEqual(classNames(first));
    expectReleaseScoped(first, 'temper', 'temper-system');
    expectReleaseScoped(renamed, 'infera', 'infera-system');
    // A release that installs them and one that does not: nothing in common.
    const second = await template('canary', 'temper-canary', { ...values, priorityClasses: { create: false } });
    expectReleaseScoped(second, 'canary', 'temper-canary');
    expect(classNames(second)).toEqual([]);
    expect(shared(first, second)).toEqual([]);
  });

  it('follows the fullname: nameOverride, fullnameOverride, and a release name at Helm\'s 53-character limit', async () => {
    const long = `r${'x'.repeat(52)}`;
    for (const [release, values, fullname] of [
      ['a', { nameOverride: 'qos' }, releaseFullname('a', { nameOverride: 'qos' })],
      ['a', { fullnameOverride: 'edge-qos' }, 'edge-qos'],
      [long, {}, releaseFullname(long)],
    ] as const) {
      const docs = await template(release, 'temper-system', values);
      expectReleaseScoped(docs, release, 'temper-system', fullname);
    }
    expect(releaseFullname('a', { nameOverride: 'qos' })).toBe('a-qos');
    expect(releaseFullname(long)).toHaveLength(50);
  });

  it('one release name in two namespaces gives one fullname: the second needs fullnameOverride', async () => {
    const [a, b, separated] = await Promise.all([
      template('temper', 'temper-system', {}),
      template('temper', 'temper-canary', { priorityClasses: { create: false } }),
      template('temper', 'temper-canary', { priorityClasses: { create: false }, fullnameOverride: 'temper-canary' }),
    ]);
    // Helm would refuse the second install (its objects belong to the first release); on a live
    // cluster the chart says so first, naming fullnameOverride (chart.test.ts).
    expect(shared(a, b)).toContain(`MutatingWebhookConfiguration//${webhookConfigurationName('temper')}`);
    expect(shared(a, separated)).toEqual([]);
  });
});
