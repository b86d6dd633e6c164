import { describe, expect, it } from 'vitest';
import { node, pod, uidOf } from '../test/builders.ts';
import { parsePolicy } from './config.ts';
import type { Policy } from './config.ts';
import { explainPod } from './explain.ts';
import { classifyPods, plan } from './plan.ts';
import type { PodInfo } from './types.ts';

const hints = parsePolicy('[node]\nplacement = "hints"\n', 't.toml');
const critical = pod({ name: 'db', uid: uidOf(1), className: 'infera-critical', priority: 1_000_000, cpu: '1', cpuLimit: '1', memory: '1Gi', memoryLimit: '1Gi' });
const lowPod = pod({ name: 'report', uid: uidOf(2), className: 'infera-low', priority: -50, cpu: '100m' });
const web = pod({ name: 'web', uid: uidOf(3), cpu: '100m' });

/** The `  match:` line of a pod's explanation on a node of `cpus` CPUs with `pods`. */
function matchLine(policy: Policy, target: PodInfo, pods: readonly PodInfo[], cpus: string | null): string {
  const p = cpus === null ? null : plan(policy, node('node-1', cpus), pods);
  const placed = p === null ? (classifyPods(policy, [target])[0] ?? null) : (p.pods.find((x) => x.pod === target) ?? null);
  const line = explainPod(policy, target, placed, p).split('\n').find((l) => l.startsWith('  match:'));
  return line?.replace(/^ {2}match: +/, '') ?? '(no match line)';
}

describe('explain: what places the pod', () => {
  it('cgroup placement: the pod\'s own clause, as before', () => {
    expect(matchLine(parsePolicy('[node]\nplacement = "cgroup"\n', 't.toml'), critical, [critical], '8')).toBe('CgroupPrefix kubepods.slice/kubepods-pod00000000_0000_4000_8000_000000000001.slice/ (systemd driver)');
  });

  it('hints: a pod at its QoS default is placed by the static match', () => {
    expect(matchLine(hints, web, [web], '8')).toBe('static match (QoS fallback): CgroupPrefix kubepods.slice/kubepods-burstable.slice/ takes every Burstable pod without a task hint (systemd driver); no clause of its own');
  });

  it('hints: a hinted pod, and where its threads are until their hint is written', () => {
    expect(matchLine(hints, lowPod, [lowPod, web], '8')).toBe('task hint 5 written by the agent for each of its threads (HintEquals 5); until a thread\'s hint is written, the static match (Burstable prefix kubepods.slice/kubepods-burstable.slice/) puts it in layer normal');
    // no Normal pods, so no layer holds the Guaranteed prefix
    expect(matchLine(hints, critical, [critical], '8')).toBe('task hint 2 written by the agent for each of its threads (HintEquals 2); until a thread\'s hint is written, no static match takes it, so it is in layer catchall');
    // 2 CPUs: Low and Normal share one layer, so an unhinted thread is already in it
    expect(matchLine(hints, lowPod, [critical, lowPod, web], '2')).toBe('task hint 5 written by the agent for each of its threads (HintEquals 5); until a thread\'s hint is written, the static match (Burstable prefix kubepods.slice/kubepods-burstable.slice/) puts it in this layer too');
  });

  it('hints without a node: the mechanism, not the layer as rendered', () => {
    expect(matchLine(hints, lowPod, [], null)).toBe('task hint 5 written by the agent for each of its threads (HintEquals 5); until a thread\'s hint is written, the static matches place it');
  });
});

describe('explain: the Profile lines', () => {
  const redis = pod({ name: 'cache', uid: uidOf(4), containers: [{ name: 'redis', image: 'redis:7', resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } }] });
  it('follow the layer; with them, the plan\'s profile warnings (this pod\'s or another\'s) are not repeated', () => {
    const p = plan(hints, node('node-1', '8'), [redis, web]);
    expect(p.warnings.map((w) => w.code)).toContain('profile-degraded');
    const placed = (target: PodInfo) => p.pods.find((x) => x.pod === target) ?? null;
    const lines = ['Profile:     none (test)'];
    const explained = explainPod(hints, web, placed(web), p, lines);
    expect(explained).toMatch(/\nProfile: {5}none \(test\)\nConfig:/);
    expect(explained).not.toContain('[profile-degraded]');
    // callers without Profile lines still get every warning about the tier
    expect(explainPod(hints, web, placed(web), p)).toContain('Warning:     [profile-degraded] pod default/cache');
  });
});
