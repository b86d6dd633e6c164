// Supervision with a stand-in scheduler (test/fixtures/fake-scx.ts) as a real child process.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../adapters/log.ts';
import type { RestartRecord, SupervisorOptions, SupervisorStatus } from './supervisor.ts';
import { Supervisor } from './supervisor.ts';

const fake = join(import.meta.dirname, '..', 'test', 'fixtures', 'fake-scx.ts');
let dir: string;
let sysfs: string;
const open: Supervisor[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'temper-sup-'));
  sysfs = join(dir, 'sched_ext');
  mkdirSync(sysfs);
  writeFileSync(join(sysfs, 'state'), 'disabled\n');
  process.env.FAKE_SCX_DIR = dir;
  process.env.FAKE_SCX_SCHED_EXT = sysfs;
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close(true);
  rmSync(dir, { recursive: true, force: true });
});

function supervisor(extra: Partial<SupervisorOptions> = {}): { s: Supervisor; states: SupervisorStatus[]; restarts: RestartRecord[] } {
  const states: SupervisorStatus[] = [];
  const restarts: RestartRecord[] = [];
  const s = new Supervisor({
    binary: process.execPath, args: [fake, '--stats', '1'], stateDir: join(dir, 'state'), schedExtDir: sysfs, log: silentLogger,
    stopTimeoutMs: 500, backoffMs: 300, maxBackoffMs: 1200, stableAfterMs: 60_000, enableTimeoutMs: 3000,
    onChange: (st) => states.push(st), onRestart: (r) => restarts.push(r), ...extra,
  });
  open.push(s);
  return { s, states, restarts };
}

const runs = (): { pid: number; args: string[]; sha256: string; at: number }[] => {
  try {
    return readFileSync(join(dir, 'runs.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
};
const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('Supervisor', () => {
  it('starts the scheduler with the config file and reports enforcing', async () => {
    const { s, restarts } = supervisor();
    await s.apply('[1]\n');
    expect(runs()).toHaveLength(1);
    expect(runs()[0]?.args).toEqual(['--stats', '1', `f:${s.configPath}`]);
    expect(readFileSync(s.configPath, 'utf8')).toBe('[1]\n');
    expect(s.current()).toMatchObject({ state: 'enforcing', restarts: 0 });
    expect(restarts[0]?.reason).toBe('first-start');
  });

  it('hints placement: starts the scheduler with --task-hint-map, its directory created 0700', async () => {
    const pin = join(dir, 'bpf', 'temper', 'hints');
    mkdirSync(join(dir, 'bpf')); // the bpffs mount
    const { s } = supervisor({ taskHintMap: pin });
    await s.apply('[1]\n');
    expect(runs()[0]?.args).toEqual(['--stats', '1', '--task-hint-map', pin, `f:${s.configPath}`]);
    expect(statSync(join(dir, 'bpf', 'temper')).mode & 0o777).toBe(0o700);
  });

  it('hints placement without the bpffs mount: the directory is not made anywhere else, the error names it, the scheduler is still started', async () => {
    const pin = join(dir, 'nobpf', 'temper', 'hints');
    const errors: [string, Record<string, unknown> | undefined][] = [];
    const { s } = supervisor({ taskHintMap: pin, log: { ...silentLogger, error: (m, f) => errors.push([m, f]) } });
    await s.apply('[1]\n');
    expect(runs()[0]?.args).toEqual(['--stats', '1', '--task-hint-map', pin, `f:${s.configPath}`]);
    expect(existsSync(join(dir, 'nobpf'))).toBe(false);
    expect(errors).toEqual([['cannot create the task hint map directory', { dir: join(dir, 'nobpf', 'temper'), error: expect.stringContaining('ENOENT') as string }]]);
  });

  it('does not restart for an unchanged config; restarts for a new one and measures the gap', async () => {
    const { s, restarts } = supervisor();
    await s.apply('[1]\n');
    await s.apply('[1]\n');
    expect(runs()).toHaveLength(1);
    await s.apply('[2]\n');
    expect(runs()).toHaveLength(2);
    expect(runs()[0]?.pid).not.toBe(runs()[1]?.pid);
    expect(s.current()).toMatchObject({ state: 'enforcing', restarts: 1 });
    expect(restarts[1]).toMatchObject({ reason: 'new-config' });
    expect(restarts[1]?.gapToEnabledMs).toBeGreaterThan(0);
  });

  it('restarts a crashing scheduler with exponential backoff and reports degraded meanwhile', async () => {
    const { s, states } = supervisor();
    writeFileSync(join(dir, 'behaviour'), 'crash:50');
    await s.apply('[1]\n');
    await until(() => runs().length >= 4, 12_000);
    const at = runs().map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    // each gap: start-up + 50 ms run + backoff 300, 600, 1200 ms. Asserted as floors, not as
    // differences between gaps: a process's start-up varies by hundreds of ms on a loaded machine.
    expect(gaps[0] ?? 0).toBeGreaterThanOrEqual(300 + 50);
    expect(gaps[1] ?? 0).toBeGreaterThanOrEqual(600 + 50);
    expect(gaps[2] ?? 0).toBeGreaterThanOrEqual(1200 + 50);
    expect(states.some((x) => x.state === 'degraded' && /exited \(code 3\)/.test(x.message))).toBe(true);
    writeFileSync(join(dir, 'behaviour'), 'ok');
    await until(() => s.current().state === 'enforcing', 5000);
  }, 30_000);

  it('kills a scheduler that ignores SIGTERM', async () => {
    const { s } = supervisor();
    writeFileSync(join(dir, 'behaviour'), 'hang');
    await s.apply('[1]\n');
    const first = runs()[0]?.pid ?? 0;
    const t0 = Date.now();
    await s.apply('[2]\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(() => process.kill(first, 0)).toThrow();
    await until(() => runs().length === 2);
  });

  it('safe mode stops the scheduler; lifting it starts the desired config again', async () => {
    const { s } = supervisor();
    await s.apply('[1]\n');
    const pid = runs()[0]?.pid ?? 0;
    await s.setSafeMode(true);
    expect(s.current().state).toBe('safe-mode');
    expect(() => process.kill(pid, 0)).toThrow();
    expect(readFileSync(join(sysfs, 'state'), 'utf8').trim()).toBe('disabled');
    await s.apply('[2]\n'); // new generations are remembered, not started, in safe mode
    expect(runs()).toHaveLength(1);
    await s.setSafeMode(false);
    expect(runs()).toHaveLength(2);
    expect(readFileSync(s.configPath, 'utf8')).toBe('[2]\n');
    expect(s.current().state).toBe('enforcing');
  });

  it('without sched_ext in the kernel it reports unavailable and starts nothing', async () => {
    const { s } = supervisor({ schedExtDir: join(dir, 'missing') });
    await s.apply('[1]\n');
    expect(s.current().state).toBe('unavailable');
    expect(runs()).toHaveLength(0);
  });

  it('a restarted agent adopts a scheduler running the same config, and replaces it for a new one', async () => {
    const first = supervisor();
    await first.s.apply('[1]\n');
    await first.s.close(false); // agent restart: the scheduler keeps running
    const pid = runs()[0]?.pid ?? 0;
    expect(() => process.kill(pid, 0)).not.toThrow();
    const second = supervisor();
    await second.s.apply('[1]\n');
    expect(runs()).toHaveLength(1);
    expect(second.s.current()).toMatchObject({ state: 'enforcing', pid });
    await second.s.apply('[2]\n');
    expect(runs()).toHaveLength(2);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a restarted agent with a different config restarts the scheduler', async () => {
    const first = supervisor();
    await first.s.apply('[1]\n');
    await first.s.close(false);
    const second = supervisor();
    await second.s.apply('[9]\n');
    await until(() => runs().length === 2);
    expect(() => process.kill(runs()[0]?.pid ?? 0, 0)).toThrow();
  });
});
