// Stopping a program the harness started: SIGTERM, SIGKILL after 15 s, then its scratch directory
// removed. Shared by the agent and webhook harnesses.
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';

/** A `stop()` for `child`: resolves to its exit code (null when killed), idempotent. */
export function stopperOf(child: ChildProcess, dir: string): () => Promise<number | null> {
  let exited: Promise<number | null> | null = null;
  return () => {
    exited ??= new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) { resolve(child.exitCode); return; }
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }).then(async (code) => { await rm(dir, { recursive: true, force: true }); return code; });
    return exited;
  };
}
