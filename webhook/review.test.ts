import { describe, expect, it } from 'vitest';
import { BadReviewError, allowResponse, parseReview, withClassFields } from './review.ts';

const review = (request: unknown) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

describe('parseReview', () => {
  it('reads a pod CREATE', () => {
    const r = parseReview(review({ uid: 'u1', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop', object: { spec: {} } }));
    expect(r).toEqual({ uid: 'u1', operation: 'CREATE', kind: 'Pod', group: '', namespace: 'shop', subResource: null, object: { spec: {} } });
  });
  it.each([
    [null, 'must be a JSON object'],
    [[], 'must be a JSON object'],
    [{ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1beta1', request: {} }, 'apiVersion "admission.k8s.io/v1beta1"'],
    [{ kind: 'Pod', apiVersion: 'v1' }, 'expected kind AdmissionReview'],
    [review(undefined), 'request is required'],
    [review({ operation: 'CREATE' }), 'request.uid is required'],
    [review({ uid: '', operation: 'CREATE' }), 'request.uid is required'],
    [review({ uid: 'u' }), 'request.operation is required'],
    [review({ uid: 'u', operation: 'CREATE', object: 'x' }), 'request.object must be an object'],
  ])('rejects %j', (body, message) => {
    expect(() => parseReview(body)).toThrow(BadReviewError);
    expect(() => parseReview(body)).toThrow(message);
  });
});

describe('allowResponse', () => {
  const pod = { metadata: { name: 'a' }, spec: { containers: [{ name: 'c' }], priority: 0, preemptionPolicy: 'PreemptLowerPriority' } };
  it('patches exactly the three class fields, computed by diffing', () => {
    const mutated = withClassFields(pod, { priorityClassName: 'infera-background', priority: -101, preemptionPolicy: 'Never' });
    const res = allowResponse('u1', pod, mutated).response as Record<string, unknown>;
    expect(res).toMatchObject({ uid: 'u1', allowed: true, patchType: 'JSONPatch' });
    const ops = JSON.parse(Buffer.from(res.patch as string, 'base64').toString()) as unknown[];
    expect(ops).toEqual(expect.arrayContaining([
      { op: 'replace', path: '/spec/priority', value: -101 },
      { op: 'replace', path: '/spec/preemptionPolicy', value: 'Never' },
      { op: 'add', path: '/spec/priorityClassName', value: 'infera-background' },
    ]));
    expect(ops).toHaveLength(3);
    expect(pod.spec).not.toHaveProperty('priorityClassName'); // the original is untouched
  });
  it('no patch when nothing changed; warnings pass through', () => {
    const res = allowResponse('u2', pod, structuredClone(pod), ['w']).response as Record<string, unknown>;
    expect(res).toEqual({ uid: 'u2', allowed: true, warnings: ['w'] });
  });
});
