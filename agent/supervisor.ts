/**
 * Runs and supervises scx_layered. scx_layered cannot reload a config, so a new generation means
 * stop + start; crashes restart with exponential backoff; safe mode stops it (the kernel falls
 * back to its default scheduler). The process is started detached with its output in a log file,
 * so it survives an agent restart; a restarted agent adopts it when it runs the same config.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../adapters/log.ts';
import type { EnforcementState } from '../core/types.ts';


export interface SupervisorOptions {
  /** Path of the scx_layered binary. */
  readonly binary: string;
  /** Extra arguments before the config (e.g. `--stats 1`). */
  readonly args: readonly string[];
  /** Directory for the config, pidfile and scheduler log (e.g. /run/temper). */
  readonly stateDir: string;
  /** sysfs directory of sched_ext; its absence means the kernel has no sched_ext. */
  readonly schedExtDir: string;
  readonly log: Logger;
  /** Time to wait after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs?: number;
  /** First crash backoff; doubles up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A run this long resets the crash backoff. */
  readonly stableAfterMs?: number;
  /** How long to wait for sched_ext to report `enabled` after a start. */
  readonly enableTimeoutMs?: number;
  /**
   * `placement = "hints"`: where scx_layered pins its task-hint map (`--task-hint-map`). The
   * directory is created 0700 before every start: scx_layered chmods the pin itself 0666, so
   * only the directory keeps other users from writing hints.
   */
  readonly taskHintMap?: string;
  /** Called on every state change. */
  readonly onChange?: (s: SupervisorStatus) => void;
  /** Called after every (re)start with the measured gap. */
  readonly onRestart?: (r: RestartRecord) => void;
}

export interface SupervisorStatus {
  readonly state: EnforcementState;
  readonly message: string;
  /** sha256 of the config the running scheduler was started with. */
  readonly runningSha256: string | null;
  readonly pid: number | null;
  readonly restarts: number;
}

export interface RestartRecord {
  readonly reason: 'new-config' | 'crash' | 'safe-mode-off' | 'first-start';
  /** From the old scheduler's stop request (or the crash) to the new process's spawn. */
  readonly gapToSpawnMs: number;
  /** From the stop request to sched_ext reporting enabled again; null when not observed. */
  readonly gapToEnabledMs: number | null;
}

interface Desired {
  readonly sha256: string;
  readonly configJson: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The kernel's count of successful sched_ext enables, or null when it does not expose one. */
export function schedExtEnableSeq(dir: string): number | null {
  try {
    const n = Number(readFileSync(join(dir, 'enable_seq'), 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** Reads the kernel's sched_ext state: `enabled`, `disabled`, …, or null without sched_ext. */
export function schedExtState(dir: string): string | null {
  try {
    return readFileSync(join(dir, 'state'), 'utf8').trim();
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class Supervisor {
  private readonly o: Required<Omit<SupervisorOptions, 'onChange' | 'onRestart' | 'taskHintMap'>> & Pick<SupervisorOptions, 'onChange' | 'onRestart' | 'taskHintMap'>;
  private desired: Desired | null = null;
  private safeMode = false;
  private child: ChildProcess | null = null;
  private adoptedPid: number | null = null;
  private runningSha: string | null = null;
  private startedAt = 0;
  private backoff: number;
  private restartTimer: NodeJS.Timeout | null = null;
  private adoptPoll: NodeJS.Timeout | null = null;
  private restarts = 0;
  private status: SupervisorStatus;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** True while we stop the scheduler ourselves: its exit is not a crash. */
  private stopping = false;

  constructor(options: SupervisorOptions) {
    this.o = {
      stopTimeoutMs: 5000, backoffMs: 1000, maxBackoffMs: 60_000, stableAfterMs: 60_000, enableTimeoutMs: 10_000, ...options,
    };
    this.backoff = this.o.backoffMs;
    mkdirSync(this.o.stateDir, { recursive: true, mode: 0o700 });
    this.status = { state: 'starting', message: 'waiting for the first config', runningSha256: null, pid: null, restarts: 0 };
  }

  get configPath(): string {
    return join(this.o.stateDir, 'layered.json');
  }

  private get pidPath(): string {
    return join(this.o.stateDir, 'scx_layered.pid');
  }

  current(): SupervisorStatus {
    return this.status;
  }

  private set(state: EnforcementState, message: string): void {
    const pid = this.child?.pid ?? this.adoptedPid;
    this.status = { state, message, runningSha256: this.runningSha, pid: pid ?? null, restarts: this.restarts };
    this.o.onChange?.(this.status);
  }

  /** Serialises operations: apply, safe mode and crash handling never interleave. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(op, op).catch((err: unknown) => {
      this.o.log.error('supervisor operation failed', { error: String(err) });
      this.set('degraded', `supervisor error: ${String(err)}`);
    });
    return this.chain;
  }

  /** Runs `configJson` (identified by its sha256). No restart when it is already running. */
  apply(configJson: string): Promise<void> {
    const desired = { sha256: sha256(configJson), configJson };
    return this.enqueue(async () => {
      this.desired = desired;
      if (this.safeMode || this.closed) return;
      if (this.runningSha === desired.sha256 && this.isRunning()) return;
      if (this.status.state === 'starting' && this.tryAdopt(desired)) return;
      await this.restart(this.isRunning() ? 'new-config' : 'first-start');
    });
  }

  /** Safe mode on: stop the scheduler and keep it stopped. Off: start the desired config again. */
  setSafeMode(on: boolean): Promise<void> {
    return this.enqueue(async () => {
      if (on === this.safeMode) return;
      this.safeMode = on;
      if (on) {
        this.clearRestartTimer();
        await this.stopScheduler();
        this.set('safe-mode', 'safe mode requested on the Node: scx_layered stopped, the kernel runs its default scheduler');
      } else if (this.desired !== null) {
        await this.restart('safe-mode-off');
      } else {
        this.set('starting', 'safe mode lifted; waiting for the first config');
      }
    });
  }

  private isRunning(): boolean {
    if (this.child !== null) return this.child.exitCode === null && this.child.signalCode === null;
    return this.adoptedPid !== null && alive(this.adoptedPid);
  }

  /** A scheduler left running by a previous agent is kept when it runs exactly this config. */
  private tryAdopt(desired: Desired): boolean {
    try {
      const [pidText, sha] = readFileSync(this.pidPath, 'utf8').trim().split(' ');
      const pid = Number(pidText);
      if (!Number.isInteger(pid) || !alive(pid) || sha !== desired.sha256) return false;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(this.configPath) || sha256(readFileSync(this.configPath, 'utf8')) !== desired.sha256) return false;
      this.adoptedPid = pid;
      this.runningSha = desired.sha256;
      this.startedAt = Date.now();
      this.adoptPoll = setInterval(() => {
        if (this.adoptedPid !== null && !alive(this.adoptedPid)) this.onExit(null, 'exited');
      }, 500);
      this.o.log.info('adopted the running scheduler', { pid, sha256: sha.slice(0, 12) });
      this.set(this.enforcingState(), `adopted scx_layered (pid ${pid}) already running this config`);
      return true;
    } catch {
      return false;
    }
  }

  private enforcingState(): EnforcementState {
    const s = schedExtState(this.o.schedExtDir);
    return s === 'enabled' ? 'enforcing' : 'degraded';
  }

  private async restart(reason: RestartRecord['reason']): Promise<void> {
    const desired = this.desired;
    if (desired === null) return;
    if (schedExtState(this.o.schedExtDir) === null) {
      this.set('unavailable', `the kernel has no sched_ext (${this.o.schedExtDir}/state not found); pods are tiered but not enforced`);
      return;
    }
    this.clearRestartTimer();
    if (!this.isRunning()) this.claimOrphan();
    // Write the new config before stopping anything: when the state directory is full or
    // read-only, the scheduler that runs keeps running its config, and the write is retried.
    try {
      this.stageConfig(desired.configJson);
    } catch (err) {
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs);
      const why = `cannot write ${this.stagedPath}: ${(err as Error).message}`;
      this.o.log.error('config not written; the running scheduler keeps its config', { error: why, retryInMs: wait });
      this.set('degraded', `${why}; ${this.isRunning() ? `scx_layered keeps running ${this.runningSha?.slice(0, 12) ?? 'its config'}` : 'nothing runs'}; retrying in ${wait} ms`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        void this.enqueue(() => this.restart(reason));
      }, wait);
      return;
    }
    const t0 = performance.now();
    await this.stopScheduler();
    const seqBefore = schedExtEnableSeq(this.o.schedExtDir);
    renameSync(this.stagedPath, this.configPath); // atomic: the scheduler never reads half a file
    this.spawnScheduler(desired.sha256);
    const gapToSpawnMs = performance.now() - t0;
    const gapToEnabledMs = await this.waitEnabled(t0, seqBefore);
    if (reason !== 'first-start') this.restarts++;
    this.o.onRestart?.({ reason, gapToSpawnMs, gapToEnabledMs });
    if (this.isRunning()) {
      const enabled = gapToEnabledMs !== null;
      this.set(enabled ? 'enforcing' : 'degraded', enabled
        ? `scx_layered running generation ${desired.sha256.slice(0, 12)}`
        : `scx_layered started but sched_ext did not report enabled within ${this.o.enableTimeoutMs} ms`);
    }
  }

  private get stagedPath(): string {
    return `${this.configPath}.tmp`;
  }

  /** Writes the next config next to the current one (renamed over it once the old scheduler has stopped). */
  private stageConfig(json: string): void {
    writeFileSync(this.stagedPath, json, { mode: 0o600 });
  }

  /** `--task-hint-map PIN` with its directory made the agent's own, or nothing in `cgroup` placement. */
  private hintMapArgs(): string[] {
    const pin = this.o.taskHintMap;
    if (pin === undefined) return [];
    try {
      // Not `recursive`: where /sys/fs/bpf is an empty sysfs directory (no bpffs mounted), mkdir
      // of a child fails with ENOENT although the parent exists, and Node's recursive mkdir then
      // retries the pair forever (measured: 74,000 mkdir calls a second, the agent at 70 % CPU).
      try {
        mkdirSync(dirname(pin), { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      chmodSync(dirname(pin), 0o700);
    } catch (err) {
      // scx_layered then fails to pin the map and exits: reported as a crash, with this first
      this.o.log.error('cannot create the task hint map directory', { dir: dirname(pin), error: (err as Error).message });
    }
    return ['--task-hint-map', pin];
  }

  private spawnScheduler(sha: string): void {
    const logFd = openSync(join(this.o.stateDir, 'scx_layered.log'), 'a', 0o600);
    try {
      // Detached, output to a file: the scheduler outlives an agent restart (no pipe to break).
      const child = spawn(this.o.binary, [...this.o.args, ...this.hintMapArgs(), `f:${this.configPath}`], { detached: true, stdio: ['ignore', logFd, logFd] });
      this.child = child;
      this.adoptedPid = null;
      this.runningSha = sha;
      this.startedAt = Date.now();
      child.on('error', (err) => {
        this.o.log.error('cannot start scx_layered', { binary: this.o.binary, error: err.message });
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.onExit(code, signal ?? 'exited');
      });
      // The pidfile only lets a later agent adopt this scheduler; failing to write it is not fatal.
      try {
        if (child.pid !== undefined) writeFileSync(this.pidPath, `${child.pid} ${sha}\n`, { mode: 0o600 });
      } catch (err) {
        this.o.log.warn('pidfile not written; a restarted agent will not adopt this scheduler', { error: (err as Error).message });
      }
      this.o.log.info('scx_layered started', { pid: child.pid ?? null, sha256: sha.slice(0, 12) });
    } finally {
      closeSync(logFd);
    }
  }

  /** A scheduler from a previous agent that runs another config is stopped before starting ours. */
  private claimOrphan(): void {
    try {
      const pid = Number(readFileSync(this.pidPath, 'utf8').trim().split(' ')[0]);
      if (Number.isInteger(pid) && alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.configPath)) {
        this.o.log.info('stopping the scheduler a previous agent left running', { pid });
        this.adoptedPid = pid;
      }
    } catch {
      // no pidfile, or the process is gone: nothing to claim
    }
  }

  /**
   * Waits for this start to take effect: sched_ext `enabled` and, where the kernel exposes it,
   * `enable_seq` past its value before the start (so a stale `enabled` is not mistaken for ours).
   */
  private async waitEnabled(since: number, seqBefore: number | null): Promise<number | null> {
    const deadline = Date.now() + this.o.enableTimeoutMs;
    while (Date.now() < deadline && this.isRunning()) {
      const seq = schedExtEnableSeq(this.o.schedExtDir);
      const fresh = seqBefore === null || (seq !== null && seq > seqBefore);
      if (fresh && schedExtState(this.o.schedExtDir) === 'enabled') return performance.now() - since;
      await new Promise((r) => setTimeout(r, 20));
    }
    return null;
  }

  /** An exit we did not ask for: report it and restart with backoff. */
  private onExit(code: number | null, signal: string): void {
    const ranMs = Date.now() - this.startedAt;
    this.child = null;
    this.adoptedPid = null;
    this.runningSha = null;
    if (this.adoptPoll !== null) { clearInterval(this.adoptPoll); this.adoptPoll = null; }
    if (this.safeMode || this.closed || this.stopping) return;
    if (ranMs >= this.o.stableAfterMs) this.backoff = this.o.backoffMs;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs);
    this.o.log.warn('scx_layered exited; restarting after backoff', { code, signal, ranMs, retryInMs: wait });
    this.set('degraded', `scx_layered exited (${code !== null ? `code ${code}` : signal}) after ${ranMs} ms; restarting in ${wait} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.enqueue(() => this.restart('crash'));
    }, wait);
  }

  private clearRestartTimer(): void {
    if (this.restartTimer !== null) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
  }

  /** SIGTERM, then SIGKILL after the timeout; resolves when the process is gone. */
  private async stopScheduler(): Promise<void> {
    const pid = this.child?.pid ?? this.adoptedPid;
    if (pid === undefined || pid === null || !this.isRunning()) {
      this.child = null;
      this.adoptedPid = null;
      return;
    }
    this.stopping = true;
    try {
      const child = this.child;
      const gone = child !== null
        ? new Promise<void>((resolve) => { if (child.exitCode !== null || child.signalCode !== null) resolve(); else child.once('exit', () => resolve()); })
        : (async () => { while (alive(pid)) await new Promise((r) => setTimeout(r, 20)); })();
      process.kill(pid, 'SIGTERM');
      const killed = await Promise.race([gone.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), this.o.stopTimeoutMs))]);
      if (killed) {
        this.o.log.warn('scx_layered ignored SIGTERM; killing it', { pid, timeoutMs: this.o.stopTimeoutMs });
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
        await gone;
      }
    } finally {
      this.child = null;
      this.adoptedPid = null;
      this.runningSha = null;
      if (this.adoptPoll !== null) { clearInterval(this.adoptPoll); this.adoptPoll = null; }
      this.stopping = false;
    }
  }

  /**
   * Stops supervising. With `stopScheduler` false (an agent restart) the scheduler keeps running
   * for the next agent to adopt; with true (uninstall, tests) it is stopped.
   */
  close(stopScheduler: boolean): Promise<void> {
    return this.enqueue(async () => {
      this.closed = true;
      this.clearRestartTimer();
      if (this.adoptPoll !== null) { clearInterval(this.adoptPoll); this.adoptPoll = null; }
      if (stopScheduler) await this.stopScheduler();
      else this.child?.unref();
    });
  }

}
