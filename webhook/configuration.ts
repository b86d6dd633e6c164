/** The MutatingWebhookConfiguration, generated from code: one source for the demo, tests and chart. */
import type { Policy } from '../core/config.ts';
import { distributionAnnotation, tierClasses } from '../core/config.ts';

export interface WebhookTarget {
  /** In-cluster Service, or a URL (local control plane). */
  readonly service?: { readonly namespace: string; readonly name: string; readonly port: number };
  readonly url?: string;
  readonly caBundlePem: string;
}

/** The label (on a namespace or a pod) that opts out of defaulting: `<prefix>/qos-defaulting=disabled`. */
export function optOutLabel(policy: Policy): string {
  return `${policy.naming.annotationPrefix}/qos-defaulting`;
}

/**
 * failurePolicy Ignore (a down webhook never blocks pods), a short timeout, no side effects,
 * Pod CREATE only, Temper's namespace and kube-system excluded, and the opt-out label honoured
 * on namespaces and pods.
 */
export function mutatingWebhookConfiguration(policy: Policy, target: WebhookTarget, timeoutSeconds = 3): Record<string, unknown> {
  const optOut = { key: optOutLabel(policy), operator: 'NotIn', values: ['disabled'] };
  const clientConfig: Record<string, unknown> = { caBundle: Buffer.from(target.caBundlePem).toString('base64') };
  if (target.service !== undefined) clientConfig.service = { ...target.service, path: '/mutate' };
  else if (target.url !== undefined) clientConfig.url = target.url;
  else throw new Error('webhook target needs a service or a url');
  const webhook: Record<string, unknown> = {
    name: `qos-defaulting.${policy.naming.annotationPrefix}`,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Ignore',
    timeoutSeconds,
    matchPolicy: 'Equivalent',
    reinvocationPolicy: 'Never',
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
    namespaceSelector: {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [policy.naming.namespace, 'kube-system'] }, optOut],
    },
    objectSelector: { matchExpressions: [optOut] },
    clientConfig,
  };
  if (!policy.webhook.replaceGlobalDefault) {
    // Skip the call entirely for pods that already name a class.
    webhook.matchConditions = [{ name: 'no-priority-class', expression: "!has(object.spec.priorityClassName) || object.spec.priorityClassName == ''" }];
  }
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'temper-qos-defaulting' },
    webhooks: [webhook],
  };
}

/** The five tier PriorityClasses as scheduling.k8s.io/v1 objects. */
export function priorityClassObjects(policy: Policy): Record<string, unknown>[] {
  return tierClasses(policy).map((pc) => ({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: pc.name, labels: { 'app.kubernetes.io/part-of': 'temper' } },
    value: pc.value,
    preemptionPolicy: pc.preemptionPolicy,
    globalDefault: false,
    description: `Temper QoS tier ${pc.name}: see docs/tiers.md`,
  }));
}

/**
 * The Node annotations the agent writes: `<prefix>/qos-distribution` and `<prefix>/agent-status`.
 * The chart's ValidatingAdmissionPolicy lets the agent's service account change these and
 * nothing else on its own Node.
 */
export function agentNodeAnnotations(policy: Policy): string[] {
  return [distributionAnnotation(policy), `${policy.naming.annotationPrefix}/agent-status`];
}
