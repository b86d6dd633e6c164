/**
 * AdmissionReview in and out: validating the request body once, and building the response
 * with a JSON Patch computed by diffing (never hand-built paths), once per class.
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

/** What a defaulted pod's patch sets: the class fields, and whether the pod already has a `spec`. */
export interface ClassPatch {
  readonly fields: ClassFields;
  readonly hasSpec: boolean;
}

/** A patch that sets `spec.schedulerName` (Critical pods sent to Temper's scheduler). */
export interface SchedulerPatch {
  readonly schedulerName: string;
  readonly hasSpec: boolean;
}

// A handful of classes and schedulers exist, so the base64 patches are computed once each and reused.
const patchCache = new Map<string, string>();

/**
 * The base64 JSON Patch setting `fields` under `spec`, computed once per (fields, hasSpec) by
 * diffing (never hand-built paths). Every op is `add`, which RFC 6902 defines to replace an
 * existing member: the Priority plugin has already stamped priority and preemptionPolicy.
 */
function specPatch(fields: Readonly<Record<string, string | number>>, hasSpec: boolean): string {
  const key = JSON.stringify([fields, hasSpec]);
  let b64 = patchCache.get(key);
  if (b64 === undefined) {
    b64 = Buffer.from(JSON.stringify(jsonpatch.compare(hasSpec ? { spec: {} } : {}, { spec: { ...fields } }))).toString('base64');
    if (patchCache.size < 1024) patchCache.set(key, b64);
  }
  return b64;
}

/** The base64 JSON Patch setting the three class fields (cached, see specPatch). */
export function classPatch(patch: ClassPatch): string {
  const { fields, hasSpec } = patch;
  return specPatch({ priorityClassName: fields.priorityClassName, priority: fields.priority, preemptionPolicy: fields.preemptionPolicy }, hasSpec);
}

/** An allowing AdmissionReview response as JSON text; with the class or scheduler patch when given. */
export function allowResponseJson(uid: string, patch: ClassPatch | SchedulerPatch | null, warnings: readonly string[] = []): string {
  const response: Record<string, unknown> = { uid, allowed: true };
  if (patch !== null) {
    response.patchType = 'JSONPatch';
    response.patch = 'schedulerName' in patch ? specPatch({ schedulerName: patch.schedulerName }, patch.hasSpec) : classPatch(patch);
  }
  if (warnings.length > 0) response.warnings = [...warnings];
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
}
