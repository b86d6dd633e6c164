import { describe, expect, it } from 'vitest';
import { node, pod } from '../test/builders.ts';
import { defaultPolicy } from './config.ts';
import { InputError, ProblemsError, UnresolvedPriorityError, formatProblem } from './errors.ts';
import { classifyPods, plan } from './plan.ts';

const policy = defaultPolicy();

describe('plan() leaves out what it cannot plan, with the reason', () => {
  const good = pod({ name: 'web', namespace: 'shop', cpu: '500m' });
  const noUid = pod({ name: 'hand-written', namespace: 'shop', uid: '' });
  const gold = pod({ name: 'gold-job', namespace: 'batch', className: 'gold' });
  const finishedNoUid = pod({ name: 'done', namespace: 'shop', uid: '', phase: 'Succeeded' });
  const elsewhere = pod({ name: 'other', namespace: 'shop', uid: '', node: 'node-2' });

  it('plans the rest exactly as without them, and lists each skipped pod in pod order', () => {
    const result = plan(policy, node(), [gold, noUid, good, finishedNoUid, elsewhere]);
    expect(result.configJson).toBe(plan(policy, node(), [good]).configJson);
    expect(result.pods.map((p) => p.pod.name)).toEqual(['web']);
    expect(result.skipped.map((s) => [s.pod.name, s.reason])).toEqual([['gold-job', 'unresolved-priority'], ['hand-written', 'missing-uid']]);
    expect(result.skipped.map((s) => formatProblem(s.problem))).toEqual([
      'pod batch/gold-job: priorityClassName "gold" has no spec.priority and no such PriorityClass is known; include the PriorityClass in the input or read the pod from the cluster',
      "pod shop/hand-written on node node-1: metadata.uid: missing, so the pod's cgroup path cannot be known",
    ]);
  });

  it('skips nothing when every pod can be planned', () => {
    expect(plan(policy, node(), [good]).skipped).toEqual([]);
  });

  it('classifyPods, for callers that need every pod, throws the same problem as an UnresolvedPriorityError', () => {
    let caught: unknown;
    try {
      classifyPods(policy, [good, gold]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnresolvedPriorityError);
    expect(caught).toBeInstanceOf(InputError); // part of the hierarchy: the CLI prints it like any input problem
    expect(caught).toBeInstanceOf(ProblemsError);
    expect((caught as UnresolvedPriorityError).problems).toEqual([plan(policy, node(), [gold]).skipped[0]?.problem]);
  });
});
