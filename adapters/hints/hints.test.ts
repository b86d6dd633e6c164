import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HintsError, MAX_HINT, cgroupArgs, checkedExit, getArgs, getHints, hintCgroup, parseCgroupOutput, parseGetOutput, parseSetOutput, setArgs, setHints } from './hints.ts';

const PIN = '/sys/fs/bpf/temper/hints';

describe('arguments for temper-hints', () => {
  it('renders valid calls as the helper expects them', () => {
    expect(setArgs(PIN, 2, [10, 11])).toEqual(['set', PIN, '2', '10', '11']);
    expect(setArgs(PIN, 0, [1])).toEqual(['set', PIN, '0', '1']);
    expect(setArgs(PIN, MAX_HINT, [2 ** 31 - 1])).toEqual(['set', PIN, '1024', '2147483647']);
    expect(getArgs(PIN, [7])).toEqual(['get', PIN, '7']);
    expect(cgroupArgs(PIN, 3, '/sys/fs/cgroup/kubepods.slice/x.slice')).toEqual(['set-cgroup', PIN, '3', '/sys/fs/cgroup/kubepods.slice/x.slice']);
  });

  it.each([
    ['a hint above 1024', () => setArgs(PIN, 1025, [1]), 'hint: must be an integer 0..1024 (got 1025)'],
    ['a negative hint', () => setArgs(PIN, -1, [1]), 'hint: must be an integer 0..1024 (got -1)'],
    ['a fractional hint', () => cgroupArgs(PIN, 1.5, '/x'), 'hint: must be an integer 0..1024 (got 1.5)'],
    ['NaN', () => setArgs(PIN, Number.NaN, [1]), '(got NaN)'],
    ['no TIDs', () => getArgs(PIN, []), 'tids: at least one TID is needed'],
    ['TID 0', () => setArgs(PIN, 2, [5, 0]), 'tids[1]: must be an integer 1..2147483647 (got 0)'],
    ['a TID past pid_t', () => getArgs(PIN, [2 ** 31]), 'tids[0]: must be an integer 1..2147483647 (got 2147483648)'],
    ['a relative map pin', () => getArgs('hints', [1]), 'map pin: must be an absolute path (got "hints")'],
    ['an empty cgroup dir', () => cgroupArgs(PIN, 2, ''), 'cgroup dir: must be an absolute path (got "")'],
    ['a NUL in a path', () => cgroupArgs(PIN, 2, '/a\0b'), 'cgroup dir: must be an absolute path'],
  ])('rejects %s, naming it', (_what, call, message) => {
    expect(call).toThrow(HintsError);
    expect(call).toThrow(message);
  });

  it('reports every bad argument at once', () => {
    expect(() => setArgs('rel', 5000, [0, 3, -2])).toThrow(
      'temper-hints set: map pin: must be an absolute path (got "rel"); hint: must be an integer 0..1024 (got 5000); tids[0]: must be an integer 1..2147483647 (got 0); tids[2]: must be an integer 1..2147483647 (got -2)',
    );
  });
});

describe('parsing temper-hints output', () => {
  it('set: one result per TID, failures with errno and reason', () => {
    expect(parseSetOutput('ok 10\nerr 11 ESRCH pidfd_open: no such thread\n', [10, 11])).toEqual([
      { tid: 10, ok: true },
      { tid: 11, ok: false, errno: 'ESRCH', message: 'pidfd_open: no such thread' },
    ]);
    expect(parseSetOutput('err 9 E95 update: Operation not supported\n', [9])).toEqual([{ tid: 9, ok: false, errno: 'E95', message: 'update: Operation not supported' }]);
  });

  it('get: a hint, none, or a failure', () => {
    expect(parseGetOutput('10 2\n11 none\nerr 12 ESRCH pidfd_open: no such thread\n', [10, 11, 12])).toEqual([
      { tid: 10, ok: true, hint: 2 },
      { tid: 11, ok: true, hint: null },
      { tid: 12, ok: false, errno: 'ESRCH', message: 'pidfd_open: no such thread' },
    ]);
  });

  it.each([
    ['a missing line', () => parseSetOutput('ok 10\n', [10, 11]), 'temper-hints set: 1 result lines for 2 TIDs'],
    ['an extra line', () => parseGetOutput('10 2\n11 2\n', [10]), 'temper-hints get: 2 result lines for 1 TIDs'],
    ['lines out of order', () => parseSetOutput('ok 11\nok 10\n', [10, 11]), 'line 1 is about TID 11, expected 10'],
    ['junk', () => parseGetOutput('10 two\n', [10]), 'temper-hints get: unexpected line 1: "10 two"'],
    ['a get line in set output', () => parseSetOutput('10 2\n', [10]), 'temper-hints set: unexpected line 1'],
  ])('rejects %s', (_what, parse, message) => {
    expect(parse).toThrow(HintsError);
    expect(parse).toThrow(message);
  });

  it('set-cgroup: the summary and the per-thread failures before it', () => {
    expect(parseCgroupOutput('hinted 3 vanished 1 failed 0\n')).toEqual({ hinted: 3, vanished: 1, failed: 0, failures: [] });
    expect(parseCgroupOutput('err 40 EPERM update: Operation not permitted\nhinted 2 vanished 0 failed 2\n')).toEqual({
      hinted: 2, vanished: 0, failed: 2, failures: [{ tid: 40, errno: 'EPERM', message: 'update: Operation not permitted' }],
    });
  });

  it.each([
    ['no summary', '', 'no summary line (got "")'],
    ['a summary that is not last', 'hinted 1 vanished 0 failed 1\nerr 4 EPERM update: x\n', 'no summary line'],
    ['junk before the summary', 'ok 4\nhinted 1 vanished 0 failed 0\n', 'unexpected line 1: "ok 4"'],
    ['more failures than counted', 'err 4 EPERM update: x\nhinted 1 vanished 0 failed 0\n', '1 failure lines but "failed 0"'],
  ])('set-cgroup: rejects %s', (_what, stdout, message) => {
    expect(() => parseCgroupOutput(stdout)).toThrow(message);
  });

  it('exit status 2 is thrown with the helper\'s own message', () => {
    expect(() => checkedExit('get', { code: 2, stdout: '', stderr: 'temper-hints: open map /x: No such file or directory\nusage: …\n' })).toThrow(
      'temper-hints get: exit status 2: temper-hints: open map /x: No such file or directory',
    );
    expect(checkedExit('set', { code: 1, stdout: 'err 1 ESRCH x\n', stderr: '' }).code).toBe(1);
  });
});

describe('running a helper', () => {
  // A stand-in for the native helper: prints canned output per command (no BPF needed).
  const dir = mkdtempSync(join(tmpdir(), 'temper-hints-'));
  const fake = join(dir, 'temper-hints');
  writeFileSync(fake, `#!/bin/sh
case "$1" in
  set) echo "ok $4"; echo "err $5 ESRCH pidfd_open: no such thread"; exit 1 ;;
  get) echo "$3 2"; exit 0 ;;
  set-cgroup) [ -d "$4" ] || { echo "temper-hints: $4 is not a readable cgroup: No such file or directory" >&2; exit 2; }
    echo "hinted 3 vanished 1 failed 0" ;;
esac
`);
  chmodSync(fake, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns per-TID results, a failed TID included', async () => {
    expect(await setHints(PIN, 2, [10, 99], { binary: fake })).toEqual([
      { tid: 10, ok: true },
      { tid: 99, ok: false, errno: 'ESRCH', message: 'pidfd_open: no such thread' },
    ]);
    expect(await getHints(PIN, [10], { binary: fake })).toEqual([{ tid: 10, ok: true, hint: 2 }]);
    expect(await hintCgroup(PIN, 2, dir, { binary: fake })).toEqual({ hinted: 3, vanished: 1, failed: 0, failures: [] });
  });

  it('throws what the helper said when it could not start work', async () => {
    await expect(hintCgroup(PIN, 2, '/nonexistent', { binary: fake })).rejects.toThrow(
      'temper-hints set-cgroup: exit status 2: temper-hints: /nonexistent is not a readable cgroup: No such file or directory',
    );
  });

  it('throws when the helper is missing, naming it', async () => {
    await expect(getHints(PIN, [1], { binary: join(dir, 'missing') })).rejects.toThrow(`temper-hints get: cannot run ${join(dir, 'missing')}: ENOENT`);
  });

  it('validates before spawning anything', async () => {
    await expect(setHints(PIN, 2000, [1], { binary: join(dir, 'missing') })).rejects.toThrow('hint: must be an integer 0..1024 (got 2000)');
  });
});
