// Vitest globalSetup: one real control plane for the whole run, shared by every test file.
// Tests read its coordinates with `inject('kubeconfig')` / `inject('nodeName')`.
import type { TestProject } from 'vitest/node';
import { startControlPlane } from '../../dev/controlplane/controlplane.ts';
import { ensureK8sBinaries } from '../../dev/controlplane/install-k8s.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await ensureK8sBinaries();
  const cp = await startControlPlane({ binaries });
  project.provide('kubeconfig', cp.kubeconfigPath);
  project.provide('nodeName', cp.nodeName);
  return () => cp.stop();
}
