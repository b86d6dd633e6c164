/**
 * The agent's view of Kubernetes: resilient informers (adapters/informer.ts) for its node's pods,
 * its Node object and the PriorityClasses, plus merge-patching the Node's annotations.
 */
import type { KubeConfig, V1Node, V1Pod, V1PriorityClass } from '@kubernetes/client-node';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ResilienceOptions, ResilientInformer } from '../adapters/informer.ts';
import type { Logger } from '../adapters/log.ts';
import { watchNodes, watchPods, watchPriorityClasses } from '../adapters/watches.ts';

export interface NodeWatch {
  readonly pods: ResilientInformer<V1Pod>;
  readonly node: ResilientInformer<V1Node>;
  /** PriorityClasses: to resolve a pod that names a class but has no spec.priority. */
  readonly classes: ResilientInformer<V1PriorityClass>;
  stop(): Promise<void>;
}

/** Watches the pods scheduled to `nodeName` (field selector spec.nodeName), the Node itself and the PriorityClasses. */
export function watchNode(kc: KubeConfig, nodeName: string, log: Logger, onChange: () => void, options: ResilienceOptions = {}): NodeWatch {
  const pods = watchPods(kc, log, onChange, { fieldSelector: `spec.nodeName=${nodeName}`, resilience: options });
  const node = watchNodes(kc, log, onChange, { fieldSelector: `metadata.name=${nodeName}`, resilience: options });
  const classes = watchPriorityClasses(kc, log, onChange, { resilience: options });
  return { pods, node, classes, stop: async () => { await Promise.all([pods.stop(), node.stop(), classes.stop()]); } };
}

/**
 * Sets (string) or removes (null) annotations on the Node with a JSON merge patch: no
 * resourceVersion, so no conflicts with the kubelet's writes.
 */
export async function patchNodeAnnotations(kc: KubeConfig, nodeName: string, annotations: Readonly<Record<string, string | null>>): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.patchNode({ name: nodeName, body: { metadata: { annotations } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}
