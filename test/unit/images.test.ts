// The container images build what the chart runs: each Containerfile's ENTRYPOINT is the chart's
// command, every file it copies exists, every repository file the entry point imports (and the
// assets it reads) is inside what it copies, every package those files import is a production
// dependency (the images run `npm ci --omit=dev`), and the pins match the repository's.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph, specifiersOf } from '../import-graph.ts';

const repo = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(repo, path), 'utf8');

interface Containerfile {
  readonly args: Record<string, string>;
  readonly froms: string[];
  /** `COPY` from the build context (not `--from=stage`): sources and the destination. */
  readonly copies: { sources: string[]; dest: string }[];
  /** `COPY --from=stage SRC DEST`: the destinations. */
  readonly stageCopies: string[];
  readonly workdir: string;
  readonly entrypoint: string[];
}

function parseContainerfile(text: string): Containerfile {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const out: Containerfile = { args: {}, froms: [], copies: [], stageCopies: [], workdir: '/', entrypoint: [] };
  let workdir = '/';
  for (const line of lines) {
    const [instr = '', ...rest] = line.split(/\s+/);
    const words = rest.filter((w) => !w.startsWith('--'));
    switch (instr.toUpperCase()) {
      case 'ARG': {
        const [name = '', value = ''] = (rest[0] ?? '').split('=');
        out.args[name] = value;
        break;
      }
      case 'FROM': out.froms.push(rest[0] ?? ''); break;
      case 'WORKDIR': workdir = rest[0] ?? '/'; break;
      case 'COPY': {
        const dest = words.at(-1) ?? '';
        if (rest.some((w) => w.startsWith('--from='))) out.stageCopies.push(dest);
        else out.copies.push({ sources: words.slice(0, -1), dest: dest.startsWith('/') ? dest : join(workdir, dest) });
        break;
      }
      case 'ENTRYPOINT': out.entrypoint.splice(0, Infinity, ...(JSON.parse(rest.join(' ')) as string[])); break;
    }
  }
  return { ...out, workdir };
}

/** The `command:` of the chart template's first container, as a list. */
function chartCommand(template: string): string[] {
  const m = /^\s+command: \[(.*)\]$/m.exec(read(`manifests/chart/temper/templates/${template}`));
  if (m === null) throw new Error(`${template}: no command: [...] line`);
  return (m[1] ?? '').split(',').map((w) => w.trim());
}

/** The repository files `entry` imports, transitively (itself included). */
function closure(entry: string): string[] {
  const graph = importGraph(repo);
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(graph.get(f) ?? []));
  }
  return [...seen].sort();
}

const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const builtins = new Set(builtinModules);

describe.each([
  { image: 'agent', template: 'agent-daemonset.yaml', entry: 'agent/main.ts', assets: ['agent/dashboard', 'agent/proto'] },
  { image: 'webhook', template: 'webhook-deployment.yaml', entry: 'webhook/main.ts', assets: [] },
  { image: 'scheduler', template: 'scheduler.yaml', entry: 'scheduler/main.ts', assets: [] },
])('manifests/images/$image.Containerfile', ({ image, template, entry, assets }) => {
  const cf = parseContainerfile(read(`manifests/images/${image}.Containerfile`));
  /** Where a repository path lands in the image, if a COPY puts it there. */
  const inImage = (path: string): string | null => {
    for (const c of cf.copies) {
      for (const src of c.sources) {
        if (path === src || path.startsWith(`${src.replace(/\/$/, '')}/`)) {
          const rest = relative(src, path);
          return c.sources.length === 1 && !c.dest.endsWith('/') ? join(c.dest, rest) : join(c.dest, rest === '' ? src : rest);
        }
      }
    }
    return null;
  };

  it('its ENTRYPOINT is exactly the chart\'s command', () => {
    expect(cf.entrypoint).toEqual(chartCommand(template));
  });

  it('every file it copies exists in the repository', () => {
    const sources = cf.copies.flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) expect(existsSync(join(repo, src)), src).toBe(true);
  });

  it('the entry point the chart runs, every repository file it imports and the assets it reads are copied', () => {
    const script = cf.entrypoint.find((w) => w.endsWith('.ts'));
    expect(script).toBe(join('/opt/temper', entry));
    const files = closure(entry);
    expect(files.length).toBeGreaterThan(5);
    for (const f of [...files, ...assets]) expect(inImage(f), `${f} is not copied into the ${image} image`).toBe(join(cf.workdir, f));
  });

  it('every package those files import is a production dependency (npm ci --omit=dev)', () => {
    const packages = new Set<string>();
    for (const f of closure(entry)) {
      for (const spec of specifiersOf(readFileSync(join(repo, f), 'utf8'))) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
      }
    }
    expect(packages.size).toBeGreaterThan(0);
    for (const p of packages) expect(pkg.dependencies[p], `${p} (imported by ${entry}'s closure) is not in package.json dependencies`).toBeDefined();
  });

  it('the Node base image is the version package.json pins', () => {
    expect(cf.args.NODE_IMAGE).toBe(`node:${pkg.dependencies.node}-bookworm-slim`);
  });
});

describe('the agent image and the chart agree on scx_layered', () => {
  const cf = parseContainerfile(read('manifests/images/agent.Containerfile'));
  it('the chart\'s --scx-binary is where the image puts it, at the version bpf/VERSIONS pins', () => {
    const daemonset = read('manifests/chart/temper/templates/agent-daemonset.yaml');
    const binary = /--scx-binary=(\S+)/.exec(daemonset)?.[1];
    expect(binary).toBeDefined();
    expect(cf.stageCopies).toContain(binary);
    const pinned = /SCX_LAYERED_VERSION=(\S+)/.exec(read('bpf/VERSIONS'))?.[1] ?? /scx_layered\D*(\d+\.\d+\.\d+)/.exec(read('bpf/VERSIONS'))?.[1];
    expect(cf.args.SCX_LAYERED_VERSION).toBe(pinned);
  });
});

describe('the agent image ships the task hint helper', () => {
  const text = read('manifests/images/agent.Containerfile');
  const cf = parseContainerfile(text);
  it('builds bpf/temper-hints.c static and puts it on PATH as temper-hints (adapters/hints default)', () => {
    expect(cf.copies).toContainEqual({ sources: ['bpf/temper-hints.c'], dest: '/src/temper-hints.c' });
    expect(text).toMatch(/gcc -static .*-o \/out\/temper-hints \/src\/temper-hints\.c/);
    expect(cf.stageCopies).toContain('/usr/local/bin/temper-hints');
  });
});

describe('the parser reads what it checks', () => {
  it('finds a missing file, a wrong entry point and an uncopied import', () => {
    const cf = parseContainerfile('ARG A=1\nFROM x AS y\nWORKDIR /opt/temper\nCOPY core ./core\nCOPY --from=y /a /usr/local/bin/a\nENTRYPOINT ["node", "/opt/temper/agent/main.ts"]\n');
    expect(cf.copies).toEqual([{ sources: ['core'], dest: '/opt/temper/core' }]);
    expect(cf.stageCopies).toEqual(['/usr/local/bin/a']);
    expect(cf.entrypoint).not.toEqual(chartCommand('agent-daemonset.yaml'));
    expect(closure('agent/main.ts').some((f) => !f.startsWith('core/'))).toBe(true);
    expect(resolve(repo, dirname('agent/main.ts'))).toBe(join(repo, 'agent'));
  });
});
