// Rendering profiles into layers and hints: the layer/hint mapping, the budgets and their degradation.
import { describe, expect, it } from 'vitest';
import { node, pod, uidOf } from '../test/builders.ts';
import { builtin, placeThread, profiledPods } from '../test/profiles-fixtures.ts';
import type { Policy } from './config.ts';
import { parsePolicy } from './config.ts';
import { podCgroupPath } from './layers.ts';
import type { Plan } from './plan.ts';
import { plan } from './plan.ts';
import type { Profile } from './profiles.ts';
import { parseProfileFiles } from './profiles.ts';
import type { ProfileLayerSpec, ProfileRendering } from './profiles-render.ts';
import { applyProfileLayers, explainProfile, renderProfiles } from './profiles-render.ts';
import { profileContext, selectProfile } from './profiles-select.ts';
import { builtinProfileCatalog } from './profiles.ts';
import { validateLayeredConfig } from './scx.ts';
import type { PodInfo } from './types.ts';

const policyOf = (placement: 'cgroup' | 'hints', extra = ''): Policy => parsePolicy(`[node]\nplacement = "${placement}"\n${extra}`, 't.toml');
const cgroup = policyOf('cgroup');
const hints = policyOf('hints');

let n = 0;
type Extra = Parameters<typeof pod>[0];
const next = (extra: Extra): PodInfo => pod({ uid: uidOf(2000 + ++n), name: `p${n}`, ...extra });
const guaranteed = (cpu: string): Extra => ({ cpu, cpuLimit: cpu, memory: '1Gi', memoryLimit: '1Gi' });
const critical = (cpu: string, extra: Extra = {}) => next({ className: 'infera-critical', priority: 1_000_000, ...guaranteed(cpu), ...extra });
const high = (cpu: string, extra: Extra = {}) => next({ className: 'infera-high', priority: 100_000, ...guaranteed(cpu), ...extra });
const normal = (cpu: string) => next(guaranteed(cpu));
const low = (cpu = '500m', extra: Extra = {}) => next({ className: 'infera-low', priority: -50, cpu, ...extra });
const background = () => next({ className: 'infera-background', priority: -101, cpu: '300m' });
const temperPod = () => next({ namespace: 'temper-system', cpu: '2' });

/** Plans a node, gives every pod in `profiled` its profile, renders and merges. */
function render(policy: Policy, cpus: string, pods: readonly PodInfo[], profiled: ReadonlyMap<PodInfo, Profile>): { p: Plan; r: ProfileRendering; config: ProfileLayerSpec[] } {
  const p = plan(policy, node('node-1', cpus), pods);
  const r = renderProfiles(policy, p, profiledPods(p, (x) => profiled.get(x) ?? null));
  const config = applyProfileLayers(p.config, r);
  expect(validateLayeredConfig(config)).toEqual([]);
  return { p, r, config };
}

const groupsOf = (r: ProfileRendering, pod: PodInfo) => r.pods.find((x) => x.uid === pod.uid)?.groups.map((g) => [g.group, g.status, g.layer, g.hint, g.cores, g.code]);
const mysql = builtin('mysql-innodb');

describe('the layer and hint mapping', () => {
  it('cgroup placement: one layer per tier and treatment, matched by pod cgroup, process and thread name', () => {
    const db = critical('4');
    const { r, config, p } = render(cgroup, '8', [db], new Map([[db, mysql]]));
    expect(config.map((l) => l.name)).toEqual(['system', 'yield', 'critical-exclusive', 'critical-latency', 'critical', 'catchall']);
    expect(groupsOf(r, db)).toEqual([
      ['connections', 'partial', 'critical-exclusive', null, 2, null],
      ['innodb-io', 'applied', 'critical-latency', null, 1, null],
      ['housekeeping', 'applied', 'yield', null, null, null],
    ]);
    const podPath = podCgroupPath('systemd', 'Guaranteed', db.uid);
    expect(config[2]?.matches).toEqual(['connection', 'tp_worker', 'tp_connection'].map((t) => [{ CgroupPrefix: podPath }, { PcommPrefix: 'mysqld' }, { CommPrefix: t }]));
    // exclusive keeps the tier's kind and flags on its own whole cores; latency gets a short slice
    expect(config[2]?.kind).toEqual({ Confined: { util_range: [0.3, 0.6], cpus_range: [2, 2], protected: true, slice_us: 5000, preempt: true, exclusive: true, weight: 5999 } });
    expect(config[3]?.kind).toEqual({ Confined: { util_range: [0.3, 0.6], cpus_range: [1, 1], protected: true, slice_us: 1000, preempt: true, exclusive: false, weight: 5999 } });
    expect(config[1]?.kind).toEqual({ Open: { slice_us: 5000, preempt: false, exclusive: false, weight: 10 } });
    // the cores come out of Critical's fence: it keeps one, the owned total is unchanged
    expect(r.resized).toEqual([{ name: 'critical', cpusRange: [1, 1], carvedCores: 3 }]);
    expect(p.layers.find((l) => l.name === 'critical')?.cpusRange).toEqual([4, 4]);
    expect(config[4]?.kind).toMatchObject({ Confined: { cpus_range: [1, 1] } });
    // threads land in their group's layer, everything else of the pod in its tier's
    const t = (comm: string, pcomm = 'mysqld') => placeThread(config, { cgroupPath: `${podPath}cri-containerd-1.scope/`, comm, pcomm, hint: null });
    expect([t('connection'), t('ib_io_wr-2'), t('ib_srv_purge'), t('evt_sched'), t('connection', 'mariadbd')]).toEqual(['critical-exclusive', 'critical-latency', 'yield', 'critical', 'critical']);
    expect(placeThread(config, { cgroupPath: 'system.slice/kubelet.service/', comm: 'connection', pcomm: 'mysqld', hint: null })).toBe('catchall');
  });

  it('hints placement: fixed values per layer, yield takes Background\'s hint, no pod in the config', () => {
    const db = critical('4');
    const { r, config } = render(hints, '8', [db], new Map([[db, mysql]]));
    expect(config.map((l) => l.name)).toEqual(['system', 'nodecritical', 'critical-exclusive', 'critical-latency', 'critical', 'low', 'background', 'catchall']);
    expect(config[2]?.matches).toEqual([[{ HintEquals: 8 }]]);
    expect(config[3]?.matches).toEqual([[{ HintEquals: 9 }]]);
    expect(groupsOf(r, db)).toEqual([
      ['connections', 'partial', 'critical-exclusive', 8, 2, null],
      ['innodb-io', 'applied', 'critical-latency', 9, 1, null],
      ['housekeeping', 'applied', 'background', 6, null, null],
    ]);
    const path = `${podCgroupPath('systemd', 'Guaranteed', db.uid)}c/`;
    expect([8, 9, 6, 2].map((hint) => placeThread(config, { cgroupPath: path, comm: 'x', pcomm: 'x', hint }))).toEqual(['critical-exclusive', 'critical-latency', 'background', 'critical']);
    expect(config[2]?.comment).toBe('profiles: exclusive groups of tier critical: task hint 8, 2 whole cores carved from critical');
  });

  it.each([
    ['High: latency only, preempting like its tier', () => high('4'), [
      ['connections', 'degraded', 'high', null, null, 'treatment-unavailable'],
      ['innodb-io', 'applied', 'high-latency', null, 1, null],
      ['housekeeping', 'applied', 'yield', null, null, null]]],
    ['Normal: latency without preempt', () => normal('4'), [
      ['connections', 'degraded', 'normal', null, null, 'treatment-unavailable'],
      ['innodb-io', 'applied', 'normal-latency', null, 1, null],
      ['housekeeping', 'applied', 'yield', null, null, null]]],
    ['Low owns no CPU: only yield', () => low('2'), [
      ['connections', 'degraded', 'low', null, null, 'treatment-unavailable'],
      ['innodb-io', 'degraded', 'low', null, null, 'treatment-unavailable'],
      ['housekeeping', 'applied', 'yield', null, null, null]]],
    ['Background is already yielding', () => background(), [
      ['connections', 'degraded', 'background', null, null, 'treatment-unavailable'],
      ['innodb-io', 'degraded', 'background', null, null, 'treatment-unavailable'],
      ['housekeeping', 'applied', 'background', null, null, null]]],
    ['Temper\'s own pods are never profiled', () => temperPod(), [
      ['connections', 'degraded', 'system', null, null, 'not-tiered'],
      ['innodb-io', 'degraded', 'system', null, null, 'not-tiered'],
      ['housekeeping', 'degraded', 'system', null, null, 'not-tiered']]],
  ])('a profile never lifts a thread above its tier: %s', (_what, make, want) => {
    const x = make();
    const { r, config } = render(cgroup, '8', [x], new Map([[x, mysql]]));
    expect(groupsOf(r, x)).toEqual(want);
    const lat = config.find((l) => l.name.endsWith('-latency'));
    if (lat !== undefined) expect(lat.kind).toMatchObject({ Grouped: { preempt: lat.name === 'high-latency', slice_us: 1000, exclusive: false } });
  });

  it('says why a treatment is unavailable', () => {
    const x = high('4', { name: 'web' });
    const { r } = render(cgroup, '8', [x], new Map([[x, mysql]]));
    expect(r.degradations).toEqual([{
      code: 'treatment-unavailable', namespace: 'default', name: 'web', uid: x.uid, profile: 'mysql-innodb', group: 'connections',
      message: 'pod default/web: profile mysql-innodb, group connections (exclusive) stays in high: exclusive cores are Critical\'s alone (the specification\'s tier table), and a high pod\'s threads never rise above its tier',
    }]);
  });

  it('process-title groups need hints: PostgreSQL under both placements', () => {
    const pg = critical('4');
    const pgProfile = builtin('postgresql');
    expect(groupsOf(render(cgroup, '8', [pg], new Map([[pg, pgProfile]])).r, pg)).toEqual([
      ['wal', 'degraded', 'critical', null, null, 'needs-hints'],
      ['maintenance', 'degraded', 'critical', null, null, 'needs-hints'],
    ]);
    expect(groupsOf(render(hints, '8', [pg], new Map([[pg, pgProfile]])).r, pg)).toEqual([
      ['wal', 'applied', 'critical-latency', 9, 1, null],
      ['maintenance', 'applied', 'background', 6, null, null],
    ]);
  });

  it('whole cores with SMT: cpus_range in CPUs, two per core', () => {
    const smt = policyOf('cgroup', 'threads_per_core = 2\n');
    const db = critical('8');
    const { r, config } = render(smt, '16', [db], new Map([[db, mysql]]));
    expect(r.layers.map((l) => [l.name, l.cores, l.spec.kind])).toEqual([
      ['yield', 0, expect.anything()],
      ['critical-exclusive', 2, expect.objectContaining({ Confined: expect.objectContaining({ cpus_range: [4, 4], exclusive: true }) })],
      ['critical-latency', 1, expect.objectContaining({ Confined: expect.objectContaining({ cpus_range: [2, 2] }) })],
    ]);
    expect(r.resized).toEqual([{ name: 'critical', cpusRange: [2, 2], carvedCores: 3 }]);
    expect(config.find((l) => l.name === 'critical')?.kind).toMatchObject({ Confined: { cpus_range: [2, 2] } });
  });
});

describe('degradation: the budgets, deterministically', () => {
  it('cores: a tier with one whole core keeps it; a pod below one whole core gets none', () => {
    const small = critical('1');
    const { r } = render(cgroup, '4', [small], new Map([[small, mysql]]));
    expect(groupsOf(r, small)?.slice(0, 2)).toEqual([
      ['connections', 'degraded', 'critical', null, null, 'cores'],
      ['innodb-io', 'degraded', 'critical', null, null, 'cores'],
    ]);
    expect(r.pods[0]?.groups[1]?.reason).toBe('stays in critical: critical holds 1 whole core and keeps one for its other threads and pods; none is left to carve');
    const half = critical('500m');
    const big = critical('3');
    const both = render(cgroup, '8', [half, big], new Map([[half, mysql], [big, mysql]])).r;
    expect(both.pods.find((x) => x.uid === half.uid)?.groups[1]?.reason).toBe('stays in critical: the pod requests 500m, less than one whole core (1 CPU here), so none of its groups can have cores of their own');
    expect(groupsOf(both, big)?.slice(0, 2)).toEqual([['connections', 'applied', 'critical-exclusive', null, 2, null], ['innodb-io', 'applied', 'critical-latency', null, 1, null]]);
  });

  it('cores: latency first (one core each), then exclusive from what is left of the pod\'s own, pods in order', () => {
    const custom = parseProfileFiles([{ name: 'p.toml', text: '[[profile]]\nname = "p"\n[[profile.group]]\nname = "hot"\ntreatment = "exclusive"\nthreads = ["hot"]\ncores = 2\n[[profile.group]]\nname = "io"\ntreatment = "latency"\nthreads = ["io"]\n' }]).files[0];
    if (custom === undefined) throw new Error('no profile');
    const a = critical('3', { name: 'a' });
    const b = critical('2', { name: 'b' });
    const { r } = render(cgroup, '8', [b, a], new Map([[a, custom], [b, custom]]));
    // Critical: 5 cores, 4 to carve. a: io 1, hot 2 (wanted 2); b: io 1, hot 0 left of the tier's 4
    expect(groupsOf(r, a)).toEqual([['hot', 'applied', 'critical-exclusive', null, 2, null], ['io', 'applied', 'critical-latency', null, 1, null]]);
    expect(groupsOf(r, b)).toEqual([['hot', 'degraded', 'critical', null, null, 'cores'], ['io', 'applied', 'critical-latency', null, 1, null]]);
    expect(r.resized).toEqual([{ name: 'critical', cpusRange: [1, 1], carvedCores: 4 }]);
  });

  it('a demoted Critical has no exclusive cores; a shared layer takes no separate yield layer', () => {
    const db = critical('3');
    const { r } = render(cgroup, '3', [db], new Map([[db, mysql]]));
    expect(groupsOf(r, db)).toEqual([
      ['connections', 'degraded', 'critical', null, null, 'treatment-unavailable'],
      ['innodb-io', 'applied', 'critical-latency', null, 1, null],
      ['housekeeping', 'applied', 'yield', null, null, null],
    ]);
    expect(r.pods[0]?.groups[0]?.reason).toBe('stays in critical: Critical is not fenced on this node (critical, Grouped), so it has no exclusive cores to share out');
    const c = critical('1');
    const web = high('1');
    const tight = render(cgroup, '3', [c, web, normal('1')], new Map([[c, mysql], [web, mysql]])).r;
    expect(groupsOf(tight, c)?.[2]).toEqual(['housekeeping', 'degraded', 'critical', null, null, 'shared-layer']);
    expect(groupsOf(tight, web)).toEqual([
      ['connections', 'degraded', 'high', null, null, 'treatment-unavailable'],
      ['innodb-io', 'degraded', 'high', null, null, 'cores'],
      ['housekeeping', 'degraded', 'high', null, null, 'shared-layer'],
    ]);
    // with hints the shared layer maps Background's hint itself
    expect(groupsOf(render(hints, '3', [c, web, normal('1')], new Map([[c, mysql], [web, mysql]])).r, c)?.[2]).toEqual(['housekeeping', 'applied', 'shared', 6, null, null]);
  });

  it('OR blocks: a profile layer holds 32 pod × thread-name clauses; pods take them in order, a group all or nothing', () => {
    const lows = Array.from({ length: 7 }, (_, i) => low('100m', { name: `low-${i}` }));
    const { r, config } = render(cgroup, '8', lows, new Map(lows.map((x) => [x, mysql])));
    const yieldLayer = config.find((l) => l.name === 'yield');
    expect(yieldLayer?.matches).toHaveLength(30);
    expect(r.degradations.map((d) => [d.name, d.group, d.code]).filter((d) => d[2] === 'match-budget')).toEqual([['low-5', 'housekeeping', 'match-budget'], ['low-6', 'housekeeping', 'match-budget']]);
    expect(r.degradations.find((d) => d.code === 'match-budget')?.message).toBe('pod default/low-5: profile mysql-innodb, group housekeeping (yield) stays in low: layer yield is full: 30 of its 32 OR blocks hold the groups of pods before this one, and this group needs 6 (one per thread name)');
    // with hints there is one block per layer, whatever the number of pods
    expect(render(hints, '8', lows, new Map(lows.map((x) => [x, mysql]))).r.degradations.filter((d) => d.code === 'match-budget')).toEqual([]);
  });

  it('layers: at most 16; profile layers are kept in a fixed order of priority, the rest degrade', () => {
    const p = plan(cgroup, node('node-1', '16'), [critical('4', { name: 'a-db' }), high('4', { name: 'b-web' })]);
    const filler = Array.from({ length: 16 - p.layers.length - 2 }, (_, i) => ({ name: `extra-${i}`, tier: null, demoted: false, spec: { name: `extra-${i}`, comment: '', matches: [[{ PcommPrefix: `x${i}` }]], kind: { Open: { slice_us: 5000, preempt: false, exclusive: false, weight: 10 } } } }));
    const layers = [...p.layers.slice(0, -1), ...filler, ...p.layers.slice(-1)];
    const r = renderProfiles(cgroup, { layers }, profiledPods(p, () => mysql));
    expect(r.layers.map((l) => l.name)).toEqual(['critical-exclusive', 'critical-latency']);
    expect(r.degradations.map((d) => [d.name, d.group, d.code])).toEqual([
      ['a-db', 'housekeeping', 'layer-budget'],
      ['b-web', 'connections', 'treatment-unavailable'],
      ['b-web', 'innodb-io', 'layer-budget'],
      ['b-web', 'housekeeping', 'layer-budget'],
    ]);
    expect(r.degradations[2]?.message).toBe('pod default/b-web: profile mysql-innodb, group innodb-io (latency) stays in high: the config already has 16 layers, scx_layered\'s limit, so high-latency cannot be added');
    expect(validateLayeredConfig(applyProfileLayers(layers.map((l) => l.spec), r))).toEqual([]);
  });
});

describe('explainProfile', () => {
  it('shows the profile, why, and each group\'s threads and layer', () => {
    const db = critical('4', { name: 'db' });
    const { r } = render(cgroup, '8', [db], new Map([[db, mysql]]));
    const sel = selectProfile(cgroup, { annotations: {}, containers: [{ name: 'mysql', image: 'mysql:8.4' }] }, profileContext(builtinProfileCatalog(), { cpus: 8, smt: false }));
    expect(explainProfile(sel, r.pods[0] ?? null)).toEqual([
      'Profile:     mysql-innodb (container mysql\'s image mysql:8.4 matches mysql-innodb\'s pattern "mysql": built-in)',
      '  connections (exclusive): threads connection*, tp_worker*, tp_connection* of process mysqld* → critical-exclusive: 2 whole cores (2 CPUs) carved from critical, exclusive; 2 of 3 wanted whole cores: critical keeps one of its 4 whole cores for its other threads and pods',
      '  innodb-io (latency): threads ib_io_wr*, ib_io_rd*, ib_log_*, ib_pg_flush* of process mysqld* → critical-latency: 1 whole core (1 CPU) carved from critical, slice 1000µs, preempt',
      '  housekeeping (yield): threads ib_srv_purge*, ib_srv_wkr*, ib_src_main*, ib_dict_stats*, ib_buf_dump*, ib_fts* of process mysqld* → yield: Background\'s properties, runs when the tiers above leave a CPU idle',
    ]);
    expect(explainProfile(sel, null)[1]).toMatch(/→ placement depends on the node$/);
    const small = critical('1', { name: 'small' });
    const tight = render(cgroup, '4', [small], new Map([[small, mysql]])).r;
    expect(explainProfile(sel, tight.pods[0] ?? null)[2]).toBe('  innodb-io (latency): threads ib_io_wr*, ib_io_rd*, ib_log_*, ib_pg_flush* of process mysqld* → [cores] stays in critical: critical holds 1 whole core and keeps one for its other threads and pods; none is left to carve');
    const none = selectProfile(cgroup, { annotations: {}, containers: [{ name: 'app', image: 'busybox' }] }, profileContext(builtinProfileCatalog(), { cpus: 8, smt: false }));
    expect(explainProfile(none, null)).toEqual(['Profile:     none (no workload-profile annotation, and no container image matches a profile\'s patterns)']);
  });
});
