/**
 * The agent's view of Kubernetes: resilient informers (adapters/informer.ts) for its node's pods,
 * its Node object and the PriorityClasses, plus merge-patching the Node's annotations.
 */
import type { KubeConfig, V1Node, V1Pod, V1PriorityClass } from '@kubernetes/client-node';
import { CoreV1Api, ListWatch, PatchStrategy, SchedulingV1Api, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { ResilienceOptions, ResilientInformer } from '../adapters/informer.ts';
import { resilientInformer } from '../adapters/informer.ts';
import type { Logger } from '../adapters/log.ts';

export interface NodeWatch {
  readonly pods: ResilientInformer<V1Pod>;
  readonly node: ResilientInformer<V1Node>;
  /** PriorityClasses: to resolve a pod that names a class but has no spec.priority. */
  readonly classes: ResilientInformer<V1PriorityClass>;
  stop(): Promise<void>;
}

/** Watches the pods scheduled to `nodeName` (field selector spec.nodeName), the Node itself and the PriorityClasses. */
export function watchNode(kc: KubeConfig, nodeName: string, log: Logger, onChange: () => void, options: ResilienceOptions = {}): NodeWatch {
  const core = kc.makeApiClient(CoreV1Api);
  const podSelector = `spec.nodeName=${nodeName}`;
  const nodeSelector = `metadata.name=${nodeName}`;
  const watch = new Watch(kc);
  const pods = resilientInformer('pods', new ListWatch<V1Pod>('/api/v1/pods', watch, () => core.listPodForAllNamespaces({ fieldSelector: podSelector }), false, undefined, podSelector), log, onChange, options);
  const node = resilientInformer('node', new ListWatch<V1Node>('/api/v1/nodes', watch, () => core.listNode({ fieldSelector: nodeSelector }), false, undefined, nodeSelector), log, onChange, options);
  const scheduling = kc.makeApiClient(SchedulingV1Api);
  const classes = resilientInformer('priorityclasses', new ListWatch<V1PriorityClass>('/apis/scheduling.k8s.io/v1/priorityclasses', watch, () => scheduling.listPriorityClass(), false), log, onChange, options);
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
