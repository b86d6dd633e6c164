/**
 * The objects that install Temper on a cluster, as plain data generated from the policy: the
 * tier PriorityClasses, the MutatingWebhookConfiguration and the Node annotations the agent
 * may write. One source for `npm start` (dev/harness), the tests and the chart's checks.
 */
import type { Policy } from './config.ts';
import { tierClasses } from './config.ts';
import { DEFAULT_RELEASE, LABELS, keysUnder, readKeys, readPrefixes, releaseFullname, webhookConfigurationName, webhookName } from './names.ts';

export interface WebhookTarget {
  /** In-cluster Service, or a URL (local control plane). */
  readonly service?: { readonly namespace: string; readonly name: string; readonly port: number };
  readonly url?: string;
  readonly caBundlePem: string;
}

/** Options of `mutatingWebhookConfiguration`. */
export interface WebhookConfigurationOptions {
  /** The registration's timeout; default 3 (the chart's `webhook.timeoutSeconds`). */
  readonly timeoutSeconds?: number;
  /** The release's fullname (`releaseFullname`) the object is named after; default `helm install temper`'s. */
  readonly fullname?: string;
}

/**
 * failurePolicy Ignore (a down webhook never blocks pods), a short timeout, no side effects,
 * Pod CREATE only, Temper's namespace and kube-system excluded, and the opt-out label honoured
 * on namespaces and pods under either name set's prefix. Named `<fullname>-qos-defaulting`: it is
 * cluster-scoped, so each release has its own.
 */
export function mutatingWebhookConfiguration(policy: Policy, target: WebhookTarget, options: WebhookConfigurationOptions = {}): Record<string, unknown> {
  const { timeoutSeconds = 3, fullname = releaseFullname(DEFAULT_RELEASE) } = options;
  // The label, on a namespace or a pod, that opts out of defaulting: `<prefix>/qos-defaulting=disabled`
  // under any honoured prefix (the requirements are ANDed, so either label opts out).
  const optOut = readKeys(policy, 'qosDefaulting').map((key) => ({ key, operator: 'NotIn', values: ['disabled'] }));
  const clientConfig: Record<string, unknown> = { caBundle: Buffer.from(target.caBundlePem).toString('base64') };
  if (target.service !== undefined) clientConfig.service = { ...target.service, path: '/mutate' };
  else if (target.url !== undefined) clientConfig.url = target.url;
  else throw new Error('webhook target needs a service or a url');
  const webhook: Record<string, unknown> = {
    name: webhookName(policy),
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Ignore',
    timeoutSeconds,
    matchPolicy: 'Equivalent',
    reinvocationPolicy: 'Never',
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
    namespaceSelector: {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [policy.naming.namespace, 'kube-system'] }, ...optOut],
    },
    objectSelector: { matchExpressions: optOut },
    clientConfig,
  };
  if (!policy.webhook.replaceGlobalDefault) {
    // Skip the call entirely for pods that already name a class.
    webhook.matchConditions = [{ name: 'no-priority-class', expression: "!has(object.spec.priorityClassName) || object.spec.priorityClassName == ''" }];
  }
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: webhookConfigurationName(fullname) },
    webhooks: [webhook],
  };
}

/** The tier PriorityClasses as scheduling.k8s.io/v1 objects: five, or in migration mode every set's (`tierClasses`). */
export function priorityClassObjects(policy: Policy): Record<string, unknown>[] {
  return tierClasses(policy).map((pc) => ({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: pc.name, labels: { ...LABELS.partOf } },
    value: pc.value,
    preemptionPolicy: pc.preemptionPolicy,
    globalDefault: false,
    description: `Temper QoS tier ${pc.name}: see docs/tiers.md`,
  }));
}

/**
 * The Node annotations the agent may change: `<prefix>/qos-distribution` and `<prefix>/agent-status`
 * under every honoured prefix (it writes those of `writePrefixes` and removes the others). The
 * chart's ValidatingAdmissionPolicy lets the agent's service account change these and nothing
 * else on its own Node.
 */
export function agentNodeAnnotations(policy: Policy): string[] {
  return readPrefixes(policy).flatMap((prefix) => {
    const keys = keysUnder(prefix);
    return [keys.qosDistribution, keys.agentStatus];
  });
}
