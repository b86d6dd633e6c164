import { describe, expect, it } from 'vitest';
import type { LayeredConfig, LayerSpec } from './scx.ts';
import { validateLayeredConfig } from './scx.ts';
import { hintLayers, matchTask, rematchTask } from './scx-match.ts';

const open = { Open: { slice_us: 5000, preempt: false, exclusive: false, weight: 100 } };
const layer = (name: string, matches: LayerSpec['matches']): LayerSpec => ({ name, comment: '', matches, kind: open });
const config: LayeredConfig = [
  layer('system', [[{ PcommPrefix: 'scx_layered' }], [{ HintEquals: 1 }]]),
  layer('critical', [[{ HintEquals: 2 }]]),
  layer('normal', [[{ HintEquals: 4 }], [{ CgroupPrefix: 'kubepods.slice/kubepods-burstable.slice/' }]]),
  layer('shared', [[{ HintEquals: 5 }], [{ HintEquals: 6 }], [{ CgroupPrefix: 'kubepods.slice/kubepods-besteffort.slice/' }]]),
  layer('regex', [[{ CgroupRegex: '^/sys/fs/cgroup/(?:system\\.slice/foo\\.service)(?:/.*)?$' }]]),
  layer('catchall', [[]]),
];
const burstable = 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda.slice/cri-containerd-1.scope/';
const besteffort = 'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podb.slice/cri-containerd-2.scope/';
const task = (cgroupPath: string, hint: number | null = null, comm = 'app') => ({ cgroupPath, comm, hint });

describe('the scx_layered matching model', () => {
  it('is checked against a config scx_layered accepts', () => {
    expect(validateLayeredConfig(config)).toEqual([]);
  });

  it('without a hint, the first layer in config order whose OR block holds wins', () => {
    expect(matchTask(config, task(burstable))).toEqual({ layer: 'normal', index: 2, by: 'match' });
    expect(matchTask(config, task(besteffort))).toEqual({ layer: 'shared', index: 3, by: 'match' });
    expect(matchTask(config, task('system.slice/kubelet.service/'))).toMatchObject({ layer: 'catchall', by: 'match' });
    expect(matchTask(config, task('/'))).toMatchObject({ layer: 'catchall' });
  });

  it('a mapped hint wins over every static match, earlier layers included', () => {
    expect(matchTask(config, task(burstable, 6))).toEqual({ layer: 'shared', index: 3, by: 'hint' });
    expect(matchTask(config, task(besteffort, 4))).toEqual({ layer: 'normal', index: 2, by: 'hint' });
    expect(matchTask(config, task('system.slice/kubelet.service/', 2))).toMatchObject({ layer: 'critical', by: 'hint' });
  });

  it('a full re-match takes the first match in order, HintEquals blocks included: a hinted task can sit in an earlier static layer until it wakes', () => {
    expect(rematchTask(config, task(burstable, 6))).toMatchObject({ layer: 'normal', by: 'match' });
    expect(rematchTask(config, task(besteffort, 2))).toMatchObject({ layer: 'critical', by: 'match' });
  });

  it('an unmapped hint, or one above 1024, is no hint at all', () => {
    expect(matchTask(config, task(burstable, 9))).toMatchObject({ layer: 'normal', by: 'match' });
    expect(matchTask(config, task(burstable, 1025))).toMatchObject({ layer: 'normal', by: 'match' });
    expect(matchTask(config, task(burstable, 0))).toMatchObject({ layer: 'normal', by: 'match' });
  });

  it('CgroupPrefix is a byte prefix of the path with its trailing slash', () => {
    const c: LayeredConfig = [layer('dir', [[{ CgroupPrefix: 'kubepods/burstable/' }]]), layer('catchall', [[]])];
    expect(matchTask(c, task('kubepods/burstable/podx/c1/')).layer).toBe('dir');
    expect(matchTask(c, task('kubepods/burstable/')).layer).toBe('dir');
    expect(matchTask(c, task('kubepods/burstablex/')).layer).toBe('catchall');
    expect(matchTask(c, task('kubepods/')).layer).toBe('catchall');
  });

  it('CgroupRegex is tested against the absolute path under /sys/fs/cgroup, without the trailing slash', () => {
    expect(matchTask(config, task('system.slice/foo.service/')).layer).toBe('regex');
    expect(matchTask(config, task('system.slice/foo.service/child/')).layer).toBe('regex');
    expect(matchTask(config, task('system.slice/foo.servicex/')).layer).toBe('catchall');
  });

  it('PcommPrefix reads the thread group leader\'s comm, as the kernel keeps it (15 bytes)', () => {
    expect(matchTask(config, { cgroupPath: burstable, comm: 'worker', pcomm: 'scx_layered', hint: null }).layer).toBe('system');
    expect(matchTask(config, { cgroupPath: burstable, comm: 'scx_layered', pcomm: 'main', hint: null }).layer).toBe('normal');
    const c: LayeredConfig = [layer('long', [[{ PcommPrefix: 'abcdefghijklmno' }]]), layer('catchall', [[]])];
    expect(matchTask(c, task('/', null, 'abcdefghijklmnopqrstu')).layer).toBe('long');
  });

  it('maps every hint value to the layer holding its block, several values per layer allowed', () => {
    expect([...hintLayers(config)].sort((a, b) => a[0] - b[0])).toEqual([[1, 0], [2, 1], [4, 2], [5, 3], [6, 3]]);
  });

  it('refuses a match kind it does not model, and a config where nothing matches', () => {
    expect(() => matchTask([layer('x', [[{ NiceAbove: 1 } as never]]), layer('catchall', [[]])], task('/'))).toThrow('unsupported match');
    expect(() => matchTask([layer('x', [[{ CgroupPrefix: 'a/' }]])], task('/'))).toThrow('no layer matches');
  });
});
