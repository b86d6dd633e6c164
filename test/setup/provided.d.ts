// Values the globalSetup (test/setup/globalSetup.ts) provides to tests through `inject`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the admin kubeconfig of the shared test control plane (group system:masters). */
    kubeconfig: string;
    /** Name of the Node object registered for this machine. */
    nodeName: string;
  }
}

export {};
