/**
 * scx_layered task hints from Node: a thin adapter over the native helper `temper-hints`
 * (bpf/temper-hints.c; Node cannot issue bpf(2) itself). It validates arguments before spawning,
 * runs the helper without a shell and parses its line protocol into typed results:
 *
 *   set MAP_PIN HINT TID...         "ok TID" | "err TID ERRNO STEP: message"   (one per TID, in order)
 *   get MAP_PIN TID...              "TID HINT" | "TID none" | "err TID ERRNO STEP: message"
 *   set-cgroup MAP_PIN HINT DIR     "err TID ERRNO STEP: message"... then "hinted N vanished V failed M"
 *
 * Exit status 0: all done; 1: some TID failed (reported per TID, not thrown); 2: bad arguments
 * or the map / cgroup could not be opened (thrown, nothing was written). TIDs are host TIDs: the
 * caller runs in the host PID namespace.
 */
import { execFile } from 'node:child_process';

/** Largest hint scx_layered honours (its lookup_task_hint ignores larger values). */
export const MAX_HINT = 1024;
const MAX_TID = 2 ** 31 - 1;

/** A bad argument, an unreadable map or cgroup, a helper that could not run or said something unexpected. */
export class HintsError extends Error {
  override readonly name = 'HintsError';
}

/** Why one TID was not written or read: errno name (`ESRCH`: no such thread), the step that failed, the text. */
export interface TidFailure {
  readonly tid: number;
  readonly errno: string;
  readonly message: string;
}

export type SetResult = { readonly tid: number; readonly ok: true } | ({ readonly ok: false } & TidFailure);
/** `hint` is null when no hint was ever written for the thread. */
export type GetResult = { readonly tid: number; readonly ok: true; readonly hint: number | null } | ({ readonly ok: false } & TidFailure);

export interface CgroupHintSummary {
  readonly hinted: number;
  /** Threads that exited while the cgroup was walked: not failures. */
  readonly vanished: number;
  readonly failed: number;
  readonly failures: readonly TidFailure[];
}

export interface HintsOptions {
  /** The helper's path (default `temper-hints`, from PATH). */
  readonly binary?: string;
  /** Kill the helper after this long (default 10 s). */
  readonly timeoutMs?: number;
}

// ---- arguments ---------------------------------------------------------------------------------

const isAbsolutePath = (p: string): boolean => p.startsWith('/') && !p.includes('\0');

function checkPath(what: string, p: string, problems: string[]): void {
  if (typeof p !== 'string' || !isAbsolutePath(p)) problems.push(`${what}: must be an absolute path (got ${JSON.stringify(p)})`);
}

function checkHint(hint: number, problems: string[]): void {
  if (!Number.isInteger(hint) || hint < 0 || hint > MAX_HINT) problems.push(`hint: must be an integer 0..${MAX_HINT} (got ${String(hint)})`);
}

function checkTids(tids: readonly number[], problems: string[]): void {
  if (tids.length === 0) problems.push('tids: at least one TID is needed');
  tids.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 1 || t > MAX_TID) problems.push(`tids[${i}]: must be an integer 1..${MAX_TID} (got ${String(t)})`);
  });
}

function throwIfAny(command: string, problems: string[]): void {
  if (problems.length) throw new HintsError(`temper-hints ${command}: ${problems.join('; ')}`);
}

/** The helper's argv for `set`; throws a HintsError naming every bad argument. */
export function setArgs(mapPin: string, hint: number, tids: readonly number[]): string[] {
  const problems: string[] = [];
  checkPath('map pin', mapPin, problems);
  checkHint(hint, problems);
  checkTids(tids, problems);
  throwIfAny('set', problems);
  return ['set', mapPin, String(hint), ...tids.map(String)];
}

/** The helper's argv for `get`; throws a HintsError naming every bad argument. */
export function getArgs(mapPin: string, tids: readonly number[]): string[] {
  const problems: string[] = [];
  checkPath('map pin', mapPin, problems);
  checkTids(tids, problems);
  throwIfAny('get', problems);
  return ['get', mapPin, ...tids.map(String)];
}

/** The helper's argv for `set-cgroup`; throws a HintsError naming every bad argument. */
export function cgroupArgs(mapPin: string, hint: number, cgroupDir: string): string[] {
  const problems: string[] = [];
  checkPath('map pin', mapPin, problems);
  checkHint(hint, problems);
  checkPath('cgroup dir', cgroupDir, problems);
  throwIfAny('set-cgroup', problems);
  return ['set-cgroup', mapPin, String(hint), cgroupDir];
}

// ---- output ------------------------------------------------------------------------------------

const ERR_LINE = /^err (\d+) (E[A-Z0-9]+) (.+)$/;

function linesOf(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '');
}

function failureOf(line: string): TidFailure | null {
  const m = ERR_LINE.exec(line);
  return m ? { tid: Number(m[1]), errno: m[2]!, message: m[3]! } : null;
}

/** Checks that line i is about tids[i]: the helper answers one line per TID, in order. */
function perTid<T extends { readonly tid: number }>(command: string, stdout: string, tids: readonly number[], parse: (line: string) => T | null): T[] {
  const lines = linesOf(stdout);
  if (lines.length !== tids.length) throw new HintsError(`temper-hints ${command}: ${lines.length} result lines for ${tids.length} TIDs: ${JSON.stringify(stdout.slice(0, 300))}`);
  return lines.map((line, i) => {
    const r = parse(line);
    if (r === null) throw new HintsError(`temper-hints ${command}: unexpected line ${i + 1}: ${JSON.stringify(line)}`);
    if (r.tid !== tids[i]) throw new HintsError(`temper-hints ${command}: line ${i + 1} is about TID ${r.tid}, expected ${tids[i]}`);
    return r;
  });
}

/** Parses `set` output for `tids` (in the order passed). */
export function parseSetOutput(stdout: string, tids: readonly number[]): SetResult[] {
  return perTid('set', stdout, tids, (line): SetResult | null => {
    const ok = /^ok (\d+)$/.exec(line);
    if (ok) return { tid: Number(ok[1]), ok: true };
    const f = failureOf(line);
    return f && { ok: false, ...f };
  });
}

/** Parses `get` output for `tids` (in the order passed). */
export function parseGetOutput(stdout: string, tids: readonly number[]): GetResult[] {
  return perTid('get', stdout, tids, (line): GetResult | null => {
    const m = /^(\d+) (none|\d+)$/.exec(line);
    if (m) return { tid: Number(m[1]), ok: true, hint: m[2] === 'none' ? null : Number(m[2]) };
    const f = failureOf(line);
    return f && { ok: false, ...f };
  });
}

/** Parses `set-cgroup` output: failure lines, then exactly one summary line, last. */
export function parseCgroupOutput(stdout: string): CgroupHintSummary {
  const lines = linesOf(stdout);
  const last = lines.at(-1) ?? '';
  const m = /^hinted (\d+) vanished (\d+) failed (\d+)$/.exec(last);
  if (!m) throw new HintsError(`temper-hints set-cgroup: no summary line (got ${JSON.stringify(last)})`);
  const failures = lines.slice(0, -1).map((line, i) => {
    const f = failureOf(line);
    if (f === null) throw new HintsError(`temper-hints set-cgroup: unexpected line ${i + 1}: ${JSON.stringify(line)}`);
    return f;
  });
  const failed = Number(m[3]);
  // a failure that is not about one thread (an unreadable cgroup.threads) is counted, not listed
  if (failures.length > failed) throw new HintsError(`temper-hints set-cgroup: ${failures.length} failure lines but "failed ${failed}"`);
  return { hinted: Number(m[1]), vanished: Number(m[2]), failed, failures };
}

// ---- running the helper -----------------------------------------------------------------------

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Exit status 0 or 1 (per-TID results on stdout); anything else is thrown with the helper's stderr. */
export function checkedExit(command: string, ran: Ran): Ran {
  if (ran.code === 0 || ran.code === 1) return ran;
  const why = ran.stderr.split('\n').find((l) => l.startsWith('temper-hints')) ?? ran.stderr.trim().split('\n')[0] ?? '';
  throw new HintsError(`temper-hints ${command}: exit status ${ran.code}${why ? `: ${why}` : ''}`);
}

function run(args: string[], opts: HintsOptions): Promise<Ran> {
  const binary = opts.binary ?? 'temper-hints';
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string | null };
      if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
      if (e.killed || e.signal) return reject(new HintsError(`temper-hints ${args[0]}: killed by ${e.signal ?? 'timeout'} after ${opts.timeoutMs ?? 10_000} ms`, { cause: err }));
      reject(new HintsError(`temper-hints ${args[0]}: cannot run ${binary}: ${String(e.code ?? e.message)}`, { cause: err }));
    });
  });
}

/** The code says some TID failed exactly when the parsed results do. */
function consistent(command: string, code: number, anyFailed: boolean): void {
  if ((code === 1) !== anyFailed) throw new HintsError(`temper-hints ${command}: exit status ${code} but ${anyFailed ? 'a TID failed' : 'every TID succeeded'}`);
}

/** Writes `hint` for each thread; one result per TID, in order (a dead TID is `ESRCH`, not thrown). */
export async function setHints(mapPin: string, hint: number, tids: readonly number[], opts: HintsOptions = {}): Promise<SetResult[]> {
  const ran = checkedExit('set', await run(setArgs(mapPin, hint, tids), opts));
  const results = parseSetOutput(ran.stdout, tids);
  consistent('set', ran.code, results.some((r) => !r.ok));
  return results;
}

/** Reads each thread's hint (null: none written); one result per TID, in order. */
export async function getHints(mapPin: string, tids: readonly number[], opts: HintsOptions = {}): Promise<GetResult[]> {
  const ran = checkedExit('get', await run(getArgs(mapPin, tids), opts));
  const results = parseGetOutput(ran.stdout, tids);
  consistent('get', ran.code, results.some((r) => !r.ok));
  return results;
}

/** Writes `hint` for every thread in `cgroupDir` and its descendant cgroups (a pod's cgroup). */
export async function hintCgroup(mapPin: string, hint: number, cgroupDir: string, opts: HintsOptions = {}): Promise<CgroupHintSummary> {
  const ran = checkedExit('set-cgroup', await run(cgroupArgs(mapPin, hint, cgroupDir), opts));
  const summary = parseCgroupOutput(ran.stdout);
  consistent('set-cgroup', ran.code, summary.failed > 0);
  return summary;
}
