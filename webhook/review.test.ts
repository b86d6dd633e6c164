import { describe, expect, it } from 'vitest';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { BadReviewError, allowResponseJson, classPatch, parseReview } from './review.ts';

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

describe('allowResponseJson', () => {
  const fields = { priorityClassName: 'infera-background', priority: -101, preemptionPolicy: 'Never' };
  const decode = (json: string): { response: Record<string, unknown>; ops: Operation[] } => {
    const review = JSON.parse(json) as { apiVersion: string; kind: string; response: Record<string, unknown> };
    expect([review.apiVersion, review.kind]).toEqual(['admission.k8s.io/v1', 'AdmissionReview']);
    const ops = review.response.patch === undefined ? [] : JSON.parse(Buffer.from(review.response.patch as string, 'base64').toString()) as Operation[];
    return { response: review.response, ops };
  };
  it.each([
    ['stamped by the Priority plugin', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c' }], priority: 0, preemptionPolicy: 'PreemptLowerPriority' } }],
    ['with no class fields', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c' }] } }],
    ['with no spec at all', { metadata: { name: 'a' } }],
  ])('the patch applied to a pod %s sets exactly the three class fields', (_, pod: Record<string, unknown>) => {
    const { response, ops } = decode(allowResponseJson('u1', { fields, hasSpec: 'spec' in pod }));
    expect(response).toMatchObject({ uid: 'u1', allowed: true, patchType: 'JSONPatch' });
    const patched = jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument as Record<string, unknown>;
    const spec = (pod.spec ?? {}) as Record<string, unknown>;
    expect(patched).toEqual({ ...pod, spec: { ...spec, ...fields } });
    expect(ops.every((o) => o.path === '/spec' || o.path.startsWith('/spec/'))).toBe(true);
  });
  it('computes each patch once and reuses it', () => {
    expect(classPatch({ fields, hasSpec: true })).toBe(classPatch({ fields: { ...fields }, hasSpec: true }));
    expect(classPatch({ fields, hasSpec: true })).not.toBe(classPatch({ fields, hasSpec: false }));
  });
  it('no patch when there is nothing to set; warnings pass through', () => {
    expect(decode(allowResponseJson('u2', null, ['w'])).response).toEqual({ uid: 'u2', allowed: true, warnings: ['w'] });
  });
});
