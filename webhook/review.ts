/**
 * AdmissionReview in and out: validating the request body once, and building the response
 * with a JSON Patch computed by diffing the mutated copy (never hand-built paths).
 */
import jsonpatch from 'fast-json-patch';
import type { ClassFields } from '../core/admission.ts';
import { isRecord } from '../core/errors.ts';

/** A request body the webhook cannot process; answered with HTTP 400 and this message. */
export class BadReviewError extends Error {
  override name = 'BadReviewError';
}

export interface AdmissionRequest {
  readonly uid: string;
  readonly operation: string;
  readonly kind: string;
  readonly group: string;
  readonly namespace: string;
  readonly subResource: string | null;
  readonly object: Record<string, unknown> | null;
}

/** Validates an `admission.k8s.io/v1` AdmissionReview body. */
export function parseReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) throw new BadReviewError('request body must be a JSON object (an AdmissionReview)');
  if (body.kind !== 'AdmissionReview' || body.apiVersion !== 'admission.k8s.io/v1') {
    throw new BadReviewError(`expected kind AdmissionReview, apiVersion admission.k8s.io/v1; got kind ${JSON.stringify(body.kind)}, apiVersion ${JSON.stringify(body.apiVersion)}`);
  }
  const req = body.request;
  if (!isRecord(req)) throw new BadReviewError('request is required');
  if (typeof req.uid !== 'string' || req.uid === '') throw new BadReviewError('request.uid is required');
  if (typeof req.operation !== 'string') throw new BadReviewError('request.operation is required');
  const kind = isRecord(req.kind) ? req.kind : {};
  if (req.object !== undefined && req.object !== null && !isRecord(req.object)) throw new BadReviewError('request.object must be an object');
  return {
    uid: req.uid,
    operation: req.operation,
    kind: typeof kind.kind === 'string' ? kind.kind : '',
    group: typeof kind.group === 'string' ? kind.group : '',
    namespace: typeof req.namespace === 'string' ? req.namespace : '',
    subResource: typeof req.subResource === 'string' && req.subResource !== '' ? req.subResource : null,
    object: isRecord(req.object) ? req.object : null,
  };
}

/** The pod object with the three class fields set; the original is left untouched. */
export function withClassFields(pod: Record<string, unknown>, fields: ClassFields): Record<string, unknown> {
  const copy = structuredClone(pod);
  const spec = isRecord(copy.spec) ? copy.spec : {};
  copy.spec = { ...spec, priorityClassName: fields.priorityClassName, priority: fields.priority, preemptionPolicy: fields.preemptionPolicy };
  return copy;
}

/** The pod object with `spec.schedulerName` set; the original is left untouched. */
export function withSchedulerName(pod: Record<string, unknown>, schedulerName: string): Record<string, unknown> {
  const copy = structuredClone(pod);
  copy.spec = { ...(isRecord(copy.spec) ? copy.spec : {}), schedulerName };
  return copy;
}

/** An allowing response; with a patch when `mutated` differs from `original`. */
export function allowResponse(uid: string, original: Record<string, unknown> | null, mutated: Record<string, unknown> | null, warnings: readonly string[] = []): Record<string, unknown> {
  const response: Record<string, unknown> = { uid, allowed: true };
  if (original !== null && mutated !== null) {
    const ops = jsonpatch.compare(original, mutated);
    if (ops.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
    }
  }
  if (warnings.length > 0) response.warnings = [...warnings];
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
