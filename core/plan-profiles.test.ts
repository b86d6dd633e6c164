// plan() with workload profiles: selection by annotation and image, the profile layers in the
// config, warnings, determinism, and every thread of a profiled pod in its group's layer under
// scx_layered's matching (core/scx-match.ts) with the hints the agent writes (threadHint).
import { describe, expect, it } from 'vitest';
import { node, pod, uidOf } from '../test/builders.ts';
import type { Policy } from './config.ts';
import { parsePolicy } from './config.ts';
import { podCgroupPath } from './layers.ts';
import type { Plan } from './plan.ts';
import { plan } from './plan.ts';
import { builtinProfileCatalog, parseProfileFiles } from './profiles.ts';
import { threadHint } from './profiles-render.ts';
import { matchTask } from './scx-match.ts';
import { validateLayeredConfig } from './scx.ts';
import type { PodInfo } from './types.ts';

const policyOf = (placement: 'cgroup' | 'hints'): Policy => parsePolicy(`[node]\nplacement = "${placement}"\n`, 't.toml');
const hints = policyOf('hints');
const cgroup = policyOf('cgroup');
const KEY = 'infera.io/workload-profile';

type Extra = Parameters<typeof pod>[0];
const guaranteed = (cpu: string): Extra => ({ cpu, cpuLimit: cpu, memory: '1Gi', memoryLimit: '1Gi' });
const critical = (i: number, cpu: string, extra: Extra = {}): PodInfo =>
  pod({ uid: uidOf(100 + i), name: `db-${i}`, className: 'infera-critical', priority: 1_000_000, ...guaranteed(cpu), ...extra });
const mysql = (i: number, cpu = '4', extra: Extra = {}): PodInfo => critical(i, cpu, { image: 'mysql:8.4', ...extra });

const layerNames = (p: Plan): string[] => p.config.map((l) => l.name);
const cpusOf = (p: Plan, name: string): readonly [number, number] | null => {
  const k = p.config.find((l) => l.name === name)?.kind;
  return k === undefined ? null : 'Confined' in k ? k.Confined.cpus_range : 'Grouped' in k ? k.Grouped.cpus_range : null;
};

describe('plan() selects and renders workload profiles', () => {
  it('a Critical MySQL pod (by its image) gets its latency and exclusive layers, carved from Critical, on 8 CPUs', () => {
    const p = plan(hints, node('node-1', '8'), [mysql(1)]);
    expect(validateLayeredConfig(p.config)).toEqual([]);
    expect(p.profiles.selections.map((s) => [s.name, s.selection.by, s.selection.profile?.profile.name])).toEqual([['db-1', 'image', 'mysql-innodb']]);
    const names = layerNames(p);
    expect(names.indexOf('critical-exclusive')).toBeLessThan(names.indexOf('critical'));
    expect(names.indexOf('critical-latency')).toBeLessThan(names.indexOf('critical'));
    expect([cpusOf(p, 'critical-latency'), cpusOf(p, 'critical-exclusive'), cpusOf(p, 'critical')]).toEqual([[1, 1], [2, 2], [1, 1]]);
    // the plan's own layer list agrees with the config it carved
    expect(p.layers.find((l) => l.name === 'critical')?.cpusRange).toEqual([1, 1]);
    expect(p.layers.find((l) => l.name === 'critical')?.spec).toEqual(p.config.find((l) => l.name === 'critical'));
    // the fence the scheduler is told about is the pod's whole request, carving or not
    expect(p.fencedCores).toBe(4);
    const groups = p.profiles.rendering.pods[0]?.groups.map((g) => [g.group, g.status, g.layer, g.hint]);
    expect(groups).toEqual([['connections', 'partial', 'critical-exclusive', 8], ['innodb-io', 'applied', 'critical-latency', 9], ['housekeeping', 'applied', 'background', 6]]);
    expect(p.warnings).toEqual([]);
  });

  it('the annotation wins over the image; "none" opts out; an unknown name is a warning and falls back to the image', () => {
    const named = plan(hints, node('node-1', '8'), [critical(1, '4', { annotations: { [KEY]: 'redis' } })]);
    expect(named.profiles.selections[0]?.selection.by).toBe('annotation');
    expect(named.profiles.rendering.pods[0]?.profile).toBe('redis');
    const out = plan(hints, node('node-1', '8'), [mysql(1, '4', { annotations: { [KEY]: 'none' } })]);
    expect(out.profiles.selections[0]?.selection.by).toBe('opt-out');
    expect(out.profiles.rendering.pods).toEqual([]);
    expect(layerNames(out)).not.toContain('critical-exclusive');
    const typo = plan(hints, node('node-1', '8'), [mysql(1, '4', { annotations: { [KEY]: 'mysq' } })]);
    expect(typo.profiles.selections[0]?.selection.by).toBe('image');
    expect(typo.warnings.map((w) => [w.code, w.tier])).toEqual([['profile-annotation', 'critical']]);
    expect(typo.warnings[0]?.message).toContain('db-1');
    expect(typo.warnings[0]?.message).toContain('"mysq", which is not a profile');
  });

  it('the catalog is an input: an empty one selects nothing, a file variant overrides the built-in', () => {
    const none = plan(hints, node('node-1', '8'), [mysql(1)], [], { builtins: [], files: [] });
    expect(none.profiles.rendering.pods).toEqual([]);
    expect(none.configJson).toBe(plan(hints, node('node-1', '8'), [mysql(1, '4', { annotations: { [KEY]: 'none' } })]).configJson);
    const files = parseProfileFiles([{ name: 'db.toml', text: '[[profile]]\nname = "mysql-innodb"\nimages = ["mysql"]\n[[profile.group]]\nname = "all"\ntreatment = "yield"\nprocess = "mysqld"\n' }]);
    const over = plan(hints, node('node-1', '8'), [mysql(1)], [], { builtins: builtinProfileCatalog().builtins, files: files.files });
    expect(over.profiles.rendering.pods[0]?.groups.map((g) => g.group)).toEqual(['all']);
    expect(over.profiles.selections[0]?.selection.reason).toContain('db.toml');
  });

  it('degradations are warnings, one per profile, group, code and tier however many pods', () => {
    const redis = (i: number): PodInfo => pod({ uid: uidOf(300 + i), name: `cache-${i}`, image: 'redis:7', ...guaranteed('1') });
    const p = plan(hints, node('node-1', '16'), [redis(1), redis(2), redis(3), redis(4)]);
    const degraded = p.warnings.filter((w) => w.code === 'profile-degraded');
    expect(degraded).toHaveLength(2);
    for (const [w, group] of degraded.map((x, i) => [x, ['event-loop', 'aof-fsync'][i]] as const)) {
      expect(w.message.startsWith(`4 pods (default/cache-1, default/cache-2, default/cache-3, and 1 more): profile redis, group ${group ?? ''}; as for default/cache-1: `)).toBe(true);
    }
    expect(degraded.map((w) => w.message.match(/\[([a-z-]+)\]$/)?.[1])).toEqual(['treatment-unavailable', 'cores']);
    expect(degraded.every((w) => w.tier === 'normal')).toBe(true);
  });

  it('is deterministic: pods in any order give byte-identical configs and the same placements', () => {
    const pods = [mysql(1), mysql(2, '2'), critical(3, '1'), pod({ uid: uidOf(9), name: 'cache', image: 'redis:7', ...guaranteed('2') })];
    const a = plan(hints, node('node-1', '16'), pods);
    const b = plan(hints, node('node-1', '16'), [...pods].reverse());
    expect(b.configJson).toBe(a.configJson);
    expect(b.profiles).toEqual(a.profiles);
    expect(b.warnings).toEqual(a.warnings);
  });

  it('with hints, a profile that carves no core adds nothing to the config: the same pod without it renders the same bytes', () => {
    const base = [critical(1, '2'), pod({ uid: uidOf(2), name: 'web', ...guaranteed('1') })];
    const cache = (image: string): PodInfo => pod({ uid: uidOf(3), name: 'cache', image, cpu: '500m' });
    const plain = plan(hints, node('node-1', '8'), [...base, cache('busybox')]);
    // Normal redis: its yield group takes Background's hint, the others cannot be treated here
    const after = plan(hints, node('node-1', '8'), [...base, cache('redis:7')]);
    expect(plain.profiles.rendering.pods).toEqual([]);
    expect(after.configJson).toBe(plain.configJson);
    expect(after.profiles.rendering.pods[0]?.groups.find((g) => g.group === 'background-io')?.hint).toBe(6);
  });
});

describe('every thread of a profiled pod lands in its group\'s layer (scx_layered matching, both placements)', () => {
  const threads = [
    { comm: 'connection', group: 'critical-exclusive' },
    { comm: 'ib_io_wr-1', group: 'critical-latency' },
    { comm: 'ib_srv_purge', group: 'background' },
    { comm: 'mysqld', group: 'critical' },
    { comm: 'ib_unmatched', group: 'critical' },
  ];
  for (const policy of [hints, cgroup]) {
    for (const driver of ['systemd', 'cgroupfs'] as const) {
      it(`placement ${policy.node.placement}, ${driver}`, () => {
        const pol: Policy = { ...policy, node: { ...policy.node, cgroupDriver: driver } };
        const db = mysql(1);
        const other = critical(2, '1', { name: 'plain' });
        const p = plan(pol, node('node-1', '8'), [db, other]);
        const placement = p.profiles.rendering.pods[0];
        const profile = p.profiles.selections.find((s) => s.uid === db.uid)?.selection.profile?.profile;
        if (placement === undefined || profile === undefined) throw new Error('mysql pod not profiled');
        const podHint = p.pods.find((x) => x.pod.uid === db.uid)?.assignment.hint ?? null;
        const cgroupPath = `${podCgroupPath(driver, 'Guaranteed', db.uid)}cri-containerd-1.scope/`;
        const where = threads.map((t) => {
          const view = { comm: t.comm, pcomm: 'mysqld', title: null };
          const hint = pol.node.placement === 'hints' ? threadHint(profile, placement, podHint, view) : null;
          return matchTask(p.config, { cgroupPath, comm: t.comm, pcomm: 'mysqld', hint }).layer;
        });
        // with cgroup placement, housekeeping has its own yield layer (Background's properties)
        expect(where).toEqual(threads.map((t) => (pol.node.placement === 'cgroup' && t.group === 'background' ? 'yield' : t.group)));
        const plainHint = p.pods.find((x) => x.pod.uid === other.uid)?.assignment.hint ?? null;
        const plainPath = `${podCgroupPath(driver, 'Guaranteed', other.uid)}cri-containerd-2.scope/`;
        for (const comm of ['connection', 'ib_io_wr-1', 'ib_srv_purge']) {
          expect(matchTask(p.config, { cgroupPath: plainPath, comm, pcomm: 'mysqld', hint: pol.node.placement === 'hints' ? plainHint : null }).layer).toBe('critical');
        }
      });
    }
  }
});

describe('threadHint', () => {
  it('the group\'s hint, else the pod\'s own (null: the static match places it)', () => {
    const p = plan(hints, node('node-1', '8'), [mysql(1)]);
    const placement = p.profiles.rendering.pods[0];
    const profile = p.profiles.selections[0]?.selection.profile?.profile;
    if (placement === undefined || profile === undefined) throw new Error('not profiled');
    const t = (comm: string, pcomm = 'mysqld') => ({ comm, pcomm, title: null });
    expect(threadHint(profile, placement, 2, t('connection'))).toBe(8);
    expect(threadHint(profile, placement, 2, t('ib_log_writer'))).toBe(9);
    expect(threadHint(profile, placement, 2, t('ib_fts_opt'))).toBe(6);
    expect(threadHint(profile, placement, 2, t('mysqld'))).toBe(2);
    expect(threadHint(profile, placement, null, t('mysqld'))).toBeNull();
    // another process in the pod (a sidecar) is in no group
    expect(threadHint(profile, placement, 2, t('connection', 'exporter'))).toBe(2);
    // a degraded group's threads get the pod's own
    const small = plan(hints, node('node-1', '4'), [mysql(1, '1')]);
    const sp = small.profiles.rendering.pods[0];
    if (sp === undefined) throw new Error('not profiled');
    expect(sp.groups[0]?.status).toBe('degraded');
    expect(threadHint(profile, sp, 2, t('connection'))).toBe(2);
  });
});
