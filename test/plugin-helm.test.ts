// The offline preview users run before installing: `helm template … | kubectl-temper tiers
// --from-file -`, with the real helm (built from Go modules) rendering the repository's chart
// into a real shell pipe. Every workload in the chart is one row named after it; every other
// kind in the stream (ServiceAccount, ConfigMap, PriorityClass, RBAC, webhook registration) is
// skipped, not fatal.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKLOAD_KINDS } from '../core/objects.ts';
import { ensureHelm } from '../dev/install-helm.ts';

const repo = join(import.meta.dirname, '..');
const chart = join(repo, 'manifests', 'chart', 'temper');
const cli = join(repo, 'plugin', 'kubectl-temper.ts');
let helm = '';

beforeAll(async () => {
  helm = await ensureHelm(); // cached; minutes when cold
}, 900_000);

const sh = (q: string): string => `'${q.replace(/'/g, `'\\''`)}'`;

describe('helm template | kubectl-temper tiers --from-file -', () => {
  it('one row per workload of the chart, named after it; other kinds skipped', () => {
    const rendered = spawnSync(helm, ['template', 'temper', chart, '--namespace', 'temper-system'], { encoding: 'utf8' });
    expect(rendered.status, rendered.stderr).toBe(0);
    const docs = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null).filter((d) => d !== null);
    const workloads = docs.filter((d) => WORKLOAD_KINDS.includes(d.kind ?? '')).map((d) => d.metadata?.name).sort();
    const others = new Set(docs.filter((d) => !WORKLOAD_KINDS.includes(d.kind ?? '')).map((d) => d.kind));
    expect(workloads.length).toBeGreaterThanOrEqual(2); // the agent DaemonSet and the webhook Deployment at least
    expect(others.size).toBeGreaterThan(3);

    const pipe = `${sh(helm)} template temper ${sh(chart)} --namespace temper-system | ${sh(process.execPath)} ${sh(cli)} tiers --from-file - -o json`;
    const r = spawnSync('sh', ['-c', pipe], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { namespace: string; name: string; tier: string; layer: string }[];
    expect(rows.map((x) => x.name).sort()).toEqual(workloads);
    // Temper's own pods run in its namespace: the system layer keeps them serviced.
    for (const row of rows) expect(row).toMatchObject({ namespace: 'temper-system', tier: 'system', layer: 'system' });

    const table = spawnSync('sh', ['-c', pipe.replace(' -o json', '')], { encoding: 'utf8', timeout: 120_000 });
    expect(table.stdout).toMatch(/^temper-system\s+daemonset\.apps\/temper-agent\s+system\s/m);
  }, 180_000);
});
