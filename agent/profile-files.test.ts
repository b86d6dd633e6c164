// The profile directory: *.toml files in name order, bad sets rejected with every problem named
// by file and key, the last good catalog kept, a missing directory as no files.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinProfileCatalog } from '../core/profiles.ts';
import { ProfileDirectory, readProfileFiles } from './profile-files.ts';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'temper-profiles-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const profile = (name: string, group = 'hot', treatment = 'latency'): string =>
  `[[profile]]\nname = "${name}"\nimages = ["example/${name}"]\n  [[profile.group]]\n  name = "${group}"\n  treatment = "${treatment}"\n  threads = ["${group}"]\n`;

describe('readProfileFiles', () => {
  it('reads the *.toml files in name order, nothing else', () => {
    writeFileSync(join(dir, 'b.toml'), profile('b'));
    writeFileSync(join(dir, 'a.toml'), profile('a'));
    writeFileSync(join(dir, 'notes.md'), 'not a profile');
    expect(readProfileFiles(dir).map((f) => f.name)).toEqual(['a.toml', 'b.toml']);
  });

  it('a missing directory has no files', () => {
    expect(readProfileFiles(join(dir, 'nope'))).toEqual([]);
  });

  it('reads a ConfigMap mount: its files are symlinks into ..data, whose own entries are skipped', () => {
    mkdirSync(join(dir, '..2026_12_04_01'));
    writeFileSync(join(dir, '..2026_12_04_01', 'db.toml'), profile('db'));
    symlinkSync('..2026_12_04_01', join(dir, '..data'));
    symlinkSync(join('..data', 'db.toml'), join(dir, 'db.toml'));
    expect(readProfileFiles(dir)).toEqual([{ name: 'db.toml', text: profile('db') }]);
  });
});

describe('ProfileDirectory', () => {
  it('loads good files into the catalog beside the built-ins, and reports nothing while they stay the same', () => {
    writeFileSync(join(dir, 'app.toml'), profile('app'));
    const d = new ProfileDirectory(dir, builtinProfileCatalog());
    expect(d.poll()).toEqual({ kind: 'loaded', files: ['app.toml'] });
    expect(d.catalog().files.map((p) => [p.name, p.source])).toEqual([['app', 'app.toml profile[0]']]);
    expect(d.catalog().builtins.length).toBe(builtinProfileCatalog().builtins.length);
    expect(d.error()).toBeNull();
    expect(d.poll()).toBeNull();
  });

  it('rejects a bad set with every problem, naming file and key; the last good catalog stays until a good set comes', () => {
    writeFileSync(join(dir, 'app.toml'), profile('app'));
    const d = new ProfileDirectory(dir, builtinProfileCatalog());
    d.poll();
    writeFileSync(join(dir, 'db.toml'), `${profile('db', 'io', 'fast')}\n[[profile]]\nname = "other"\ncolour = "red"\n`);
    const r = d.poll();
    expect(r).toEqual({
      kind: 'rejected',
      problems: [
        'db.toml: profile[0].group[0].treatment: must be one of exclusive, latency, yield (got "fast")',
        'db.toml: profile[1].colour: unknown key (keys here are name, description, images, shape, group)',
      ],
    });
    expect(d.error()).toBe(r?.kind === 'rejected' ? r.problems.join('; ') : '');
    expect(d.catalog().files.map((p) => p.name)).toEqual(['app']); // the last good set
    expect(d.files()).toEqual(['app.toml']);
    expect(d.poll()).toBeNull(); // the same bad set is not reported twice
    writeFileSync(join(dir, 'db.toml'), profile('db', 'io', 'yield'));
    expect(d.poll()).toEqual({ kind: 'loaded', files: ['app.toml', 'db.toml'] });
    expect(d.error()).toBeNull();
    expect(d.catalog().files.map((p) => p.name)).toEqual(['app', 'db']);
  });

  it('invalid TOML is named with its file, line and column', () => {
    writeFileSync(join(dir, 'broken.toml'), '[[profile]\nname = "x"\n');
    const d = new ProfileDirectory(dir, builtinProfileCatalog());
    const r = d.poll();
    expect(r?.kind).toBe('rejected');
    expect(r?.kind === 'rejected' ? r.problems[0] : '').toMatch(/^broken\.toml:\d+:\d+: invalid TOML: /);
    expect(d.catalog()).toEqual(builtinProfileCatalog()); // at start, the last good set is the built-ins
  });

  it('a missing directory is the built-ins only; it may appear later, and go again', () => {
    const missing = join(dir, 'profiles');
    const d = new ProfileDirectory(missing, builtinProfileCatalog());
    expect(d.poll()).toEqual({ kind: 'loaded', files: [] });
    expect(d.catalog().files).toEqual([]);
    mkdirSync(`${missing}.new`);
    writeFileSync(join(`${missing}.new`, 'app.toml'), profile('app'));
    renameSync(`${missing}.new`, missing);
    expect(d.poll()).toEqual({ kind: 'loaded', files: ['app.toml'] });
    rmSync(missing, { recursive: true });
    expect(d.poll()).toEqual({ kind: 'loaded', files: [] });
  });
});
