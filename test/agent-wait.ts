/** Shared by the agent tests: polling until a condition holds, the fake scheduler's sysfs and run log, a test Node. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api } from '@kubernetes/client-node';

/** Polls `fn` every 50 ms until it returns something other than undefined or false; throws naming `what` after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The runs test/fixtures/fake-scx.ts recorded in `dir`/runs.jsonl, oldest first (none yet: []). */
export function fakeScxRuns<T = { pid: number; sha256: string; args: string[]; at: number }>(dir: string): T[] {
  try {
    return readFileSync(join(dir, 'runs.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
  } catch {
    return [];
  }
}

/**
 * Points test/fixtures/fake-scx.ts at `dir` (its run log) and at `sysfs`, a stand-in for
 * /sys/kernel/sched_ext that starts `disabled`.
 */
export function fakeSchedExt(dir: string, sysfs: string): void {
  mkdirSync(sysfs);
  writeFileSync(join(sysfs, 'state'), 'disabled\n');
  process.env.FAKE_SCX_DIR = dir;
  process.env.FAKE_SCX_SCHED_EXT = sysfs;
}

/** An 8-CPU Node object named `name` for an agent to run on. */
export async function createTestNode(core: CoreV1Api, name: string): Promise<void> {
  await core.createNode({ body: { metadata: { name }, status: { capacity: { cpu: '8', memory: '16Gi', pods: '110' }, allocatable: { cpu: '8', memory: '16Gi', pods: '110' } } } });
}
