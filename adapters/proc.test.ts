// The procfs reader on a fake /proc tree, and on the real one for this very process.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { procReader } from './proc.ts';

let root: string;
beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'temper-proc-')); });
afterEach(() => { rmSync(root, { recursive: true, force: true }); });

describe('procReader', () => {
  it('reads comm without its newline, Tgid from status, and the title with NULs as spaces', () => {
    mkdirSync(join(root, '41'));
    mkdirSync(join(root, '42'));
    writeFileSync(join(root, '42', 'comm'), 'Native-Transpor\n');
    writeFileSync(join(root, '42', 'status'), 'Name:\tNative-Transpor\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t41\nNgid:\t0\nPid:\t42\n');
    writeFileSync(join(root, '41', 'cmdline'), 'postgres: checkpointer \0\0');
    const proc = procReader(root);
    expect(proc.comm(42)).toBe('Native-Transpor');
    expect(proc.tgid(42)).toBe(41);
    expect(proc.title(41)).toBe('postgres: checkpointer ');
    writeFileSync(join(root, '41', 'cmdline'), 'java\0-jar\0cassandra.jar\0');
    expect(proc.title(41)).toBe('java -jar cassandra.jar');
  });

  it('a thread that is gone reads as null', () => {
    const proc = procReader(root);
    expect([proc.comm(7), proc.tgid(7), proc.title(7)]).toEqual([null, null, null]);
  });

  it('reads this process on the real /proc', () => {
    const proc = procReader();
    expect(proc.comm(process.pid)).toBe(readFileSync('/proc/self/comm', 'utf8').trim());
    expect(proc.tgid(process.pid)).toBe(process.pid);
    expect(proc.title(process.pid)).toContain('node');
  });
});
