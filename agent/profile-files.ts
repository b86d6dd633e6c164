/**
 * The agent's workload-profile files (docs/profiles.md "Profile files"): every `*.toml` in its
 * `--profiles-dir`, read in name order and parsed by core into the catalog it plans with. The
 * directory is a ConfigMap mount in the chart, whose files change by an atomic symlink swap, so
 * the agent polls the files' text rather than watching one path.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import type { ProfileCatalog, ProfileFile } from '../core/profiles.ts';
import { parseProfileFiles } from '../core/profiles.ts';

/** Where the chart mounts the profiles ConfigMap. */
export const DEFAULT_PROFILES_DIR = '/etc/temper/profiles';

/**
 * The `*.toml` files directly in `dir`, sorted by name (a missing directory has none). Hidden
 * names are skipped: a ConfigMap mount keeps its real files in `..<timestamp>/` and `..data`.
 * Throws on any other read error (EACCES, a file that is a directory).
 */
export function readProfileFiles(dir: string): ProfileFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.toml') && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: ProfileFile[] = [];
  for (const name of names) {
    try {
      out.push({ name, text: readFileSync(join(dir, name), 'utf8') });
    } catch (err) {
      // removed between the listing and the read: as if it had not been listed
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

/** A load of the directory: the catalog, or every problem in one line each (file and key named). */
export type ProfileLoad =
  | { readonly ok: true; readonly catalog: ProfileCatalog; readonly files: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Parses files read by readProfileFiles; never throws for a bad file, only for a bug. */
export function loadProfiles(files: readonly ProfileFile[]): ProfileLoad {
  try {
    return { ok: true, catalog: parseProfileFiles(files), files: files.map((f) => f.name) };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.lines };
    throw err;
  }
}

/**
 * Follows a profiles directory: `poll()` reads it and, when the files' names or text changed
 * since the last poll, parses them. A bad set is rejected and the last good catalog stays (at
 * start, the built-ins); `error` says why until a good set comes.
 */
export class ProfileDirectory {
  private lastSeen: string | null = null;
  private good: { catalog: ProfileCatalog; files: readonly string[] };
  private problem: string | null = null;
  readonly dir: string;

  constructor(dir: string, builtins: ProfileCatalog) {
    this.dir = dir;
    this.good = { catalog: builtins, files: [] };
  }

  /** The catalog in effect: the last good set's. */
  catalog(): ProfileCatalog {
    return this.good.catalog;
  }

  /** The files of the catalog in effect, by name. */
  files(): readonly string[] {
    return this.good.files;
  }

  /** Why the directory's current files are not in effect, or null. */
  error(): string | null {
    return this.problem;
  }

  /**
   * Reads the directory; returns what happened when anything changed (`loaded`, or `rejected`
   * with the problems), null when the files are as last seen.
   */
  poll(): { readonly kind: 'loaded'; readonly files: readonly string[] } | { readonly kind: 'rejected'; readonly problems: readonly string[] } | null {
    let files: ProfileFile[];
    try {
      files = readProfileFiles(this.dir);
    } catch (err) {
      const why = `${this.dir}: ${(err as Error).message}`;
      if (this.lastSeen === why) return null;
      this.lastSeen = why;
      this.problem = why;
      return { kind: 'rejected', problems: [why] };
    }
    const seen = JSON.stringify(files.map((f) => [f.name, f.text]));
    if (seen === this.lastSeen) return null;
    this.lastSeen = seen;
    const load = loadProfiles(files);
    if (!load.ok) {
      this.problem = load.problems.join('; ');
      return { kind: 'rejected', problems: load.problems };
    }
    this.good = { catalog: load.catalog, files: load.files };
    this.problem = null;
    return { kind: 'loaded', files: load.files };
  }
}
