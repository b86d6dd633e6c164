// The example pods of manifests/examples/pods.yaml created on a local control plane, as a user
// would apply them: no uid, status or priority (the API server, and the webhook when one is
// registered, fill them in), all bound to one node. Used by `npm start` and `npm run demo:kernel`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { isRecord } from '../../core/errors.ts';
import { ensureNamespace } from '../controlplane/controlplane.ts';

const repo = join(import.meta.dirname, '..', '..');

/** Creates the live example pods (finished ones are left out) on `nodeName`; returns how many. */
export async function createExamplePods(kc: KubeConfig, nodeName: string): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  const docs = parseAllDocuments(readFileSync(join(repo, 'manifests', 'examples', 'pods.yaml'), 'utf8')).map((d) => d.toJS() as unknown);
  let created = 0;
  for (const doc of docs) {
    if (!isRecord(doc) || !isRecord(doc.metadata) || !isRecord(doc.spec) || isRecord(doc.status) && doc.status.phase === 'Succeeded') continue;
    const namespace = String(doc.metadata.namespace ?? 'default');
    await ensureNamespace(kc, namespace);
    const { priority: _priority, ...spec } = doc.spec;
    const body = { metadata: { name: doc.metadata.name, namespace }, spec: { ...spec, nodeName } } as V1Pod;
    await core.createNamespacedPod({ namespace, body });
    created++;
  }
  return created;
}
