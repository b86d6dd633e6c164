// bpf/vm.ts's host-stall watcher, which the fence test uses to tell the host's own freezes of the
// emulator from the guest scheduler's: a process with more busy threads than the host has CPUs
// must show threads waiting on the run queue; a sleeping one must not.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostStallWatcher } from '../../bpf/vm.ts';

/** Starts `script`, waits out its start-up (which may queue on a busy machine), then watches it. */
async function watch(script: string, ms: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  const sleep = (t: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, t));
  await sleep(1000);
  const w = hostStallWatcher(child.pid ?? -1);
  await sleep(ms);
  const stall = w.stop();
  child.kill('SIGKILL');
  return stall;
}

describe('hostStallWatcher', () => {
  it('sees the run-queue waits of an oversubscribed process and none of a sleeping one', async () => {
    const spinners = availableParallelism() + 1;
    const busy = await watch(`const { Worker } = require('node:worker_threads'); for (let i = 0; i < ${spinners}; i++) new Worker('for(;;){}', { eval: true });`, 2500);
    expect(busy, `${spinners} spinning threads on ${availableParallelism()} CPUs`).toBeGreaterThan(0);
    const idle = await watch('setTimeout(() => {}, 10_000);', 1500);
    expect(idle).toBe(0);
  });

  it('returns 0 for a process that does not exist', () => {
    expect(hostStallWatcher(2 ** 22 + 12345).stop()).toBe(0);
  });
});
