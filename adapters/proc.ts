/**
 * What workload profiles need to know of a thread, read from procfs: its name (comm), its
 * thread-group id (the leader's comm is what a profile's `process` matches) and its process
 * title. Synchronous and small: a comm is one 16-byte read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The reads the placer makes per thread; injected so tests can fake /proc. null: the thread (or process) is gone. */
export interface ProcReader {
  /** `/proc/<tid>/comm` without its newline. */
  comm(tid: number): string | null;
  /** `Tgid:` of `/proc/<tid>/status`. */
  tgid(tid: number): number | null;
  /** `/proc/<tgid>/cmdline` with its NULs as spaces, trailing ones dropped (PostgreSQL's and Redis's rewritten titles). */
  title(tgid: number): string | null;
}

// ENOENT: the thread exited; ESRCH: it exited while being read
const gone = (err: unknown): boolean => ['ENOENT', 'ESRCH'].includes((err as NodeJS.ErrnoException).code ?? '');

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (gone(err)) return null;
    throw err;
  }
}

/** A ProcReader over the procfs mounted at `root` (default /proc; the agent runs in the host's PID namespace). */
export function procReader(root = '/proc'): ProcReader {
  return {
    comm: (tid) => read(join(root, String(tid), 'comm'))?.replace(/\n$/, '') ?? null,
    tgid: (tid) => {
      const m = /^Tgid:\s*(\d+)$/m.exec(read(join(root, String(tid), 'status')) ?? '');
      return m === null ? null : Number(m[1]);
    },
    title: (tgid) => read(join(root, String(tgid), 'cmdline'))?.replace(/\0+$/, '').replaceAll('\0', ' ') ?? null,
  };
}
