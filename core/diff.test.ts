import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { node, pod } from '../test/builders.ts';
import { parsePolicy } from './config.ts';
import { diffLayers, tierMoves, unifiedDiff } from './diff.ts';
import { plan } from './plan.ts';

// Per-pod clauses (placement = "cgroup") give diffs in comments and weights as well as sizing.
const policy = parsePolicy('[node]\nplacement = "cgroup"\n', 't.toml');
const rows = (p: ReturnType<typeof plan>) => p.pods.map((x) => ({ namespace: x.pod.namespace, name: x.pod.name, uid: x.pod.uid, tier: x.assignment.tier }));

describe('diffLayers and tierMoves', () => {
  const web = pod({ name: 'web', cpu: '1' });
  const db = pod({ name: 'db', cpu: '2', className: 'infera-critical', priority: 1_000_000 });
  const a = plan(policy, node(), [web, db]);
  const b = plan(policy, node(), [{ ...web, priorityClassName: 'infera-high', priority: 100_000 }, db]);

  it('diff(x, x) is empty', () => {
    expect(diffLayers(a.config, a.config)).toEqual([]);
    expect(tierMoves(rows(a), rows(a))).toEqual([]);
    expect(unifiedDiff(a.configJson, a.configJson, 'a', 'a')).toBe('');
  });

  it('a re-tiered pod: one move, its old layer removed, its new layer added', () => {
    expect(tierMoves(rows(a), rows(b))).toEqual([{ namespace: 'default', name: 'web', uid: web.uid, from: 'normal', to: 'high' }]);
    const changes = diffLayers(a.config, b.config);
    // Critical is untouched: a tier's weight depends on its own requests only.
    expect(changes.map((c) => [c.layer, c.change])).toEqual([['high', 'added'], ['normal', 'removed']]);
  });

  it('field-level changes inside a layer', () => {
    const bigger = plan(policy, node(), [{ ...web, containers: [{ name: 'c', image: '', restartPolicy: null, resources: { requests: { cpu: 3_000_000_000n }, limits: {} } }] }, db]);
    const normal = diffLayers(a.config, bigger.config).find((c) => c.layer === 'normal');
    expect(normal?.fields).toEqual(expect.arrayContaining([
      { path: 'comment', before: 'tier normal: 1 pod, requests 1, limits unbounded', after: 'tier normal: 1 pod, requests 3, limits unbounded' },
      { path: 'kind.Grouped.cpus_range', before: [1, 5], after: [3, 5] },
    ]));
  });

  it('pods that appear or disappear move from or to null', () => {
    const c = plan(policy, node(), [db]);
    expect(tierMoves(rows(a), rows(c))).toEqual([{ namespace: 'default', name: 'web', uid: web.uid, from: 'normal', to: null }]);
    expect(tierMoves(rows(c), rows(a))).toEqual([{ namespace: 'default', name: 'web', uid: web.uid, from: null, to: 'normal' }]);
  });
});

describe('unifiedDiff', () => {
  it('matches what `patch` needs: applying it to a gives b (random texts)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'temper-diff-'));
    try {
      const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '  "x": 1,', '}', ''), { maxLength: 40 });
      fc.assert(fc.property(lines, lines, (x, y) => {
        const a = `${x.join('\n')}\n`;
        const b = `${y.join('\n')}\n`;
        const d = unifiedDiff(a, b, 'a', 'b', 2);
        if (a === b) { expect(d).toBe(''); return; }
        writeFileSync(join(dir, 'f'), a);
        writeFileSync(join(dir, 'p'), d);
        execFileSync('patch', ['-s', '--no-backup-if-mismatch', join(dir, 'f'), join(dir, 'p')]);
        expect(execFileSync('cat', [join(dir, 'f')], { encoding: 'utf8' })).toBe(b);
      }), { numRuns: 150 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints hunks with context like diff -u', () => {
    expect(unifiedDiff('1\n2\n3\n4\n5\n6\n7\n8\n', '1\n2\n3\n4\nFIVE\n6\n7\n8\n', 'gen 1', 'gen 2', 1))
      .toBe('--- gen 1\n+++ gen 2\n@@ -4,3 +4,3 @@\n 4\n-5\n+FIVE\n 6\n');
  });
});
