// The shape of the house is enforced by ESLint (eslint.config.js) and by the import-cycle walk
// (test/import-graph.ts); this proves each rule bites, and that the tree obeys them.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { importCycles, importGraph } from '../import-graph.ts';

const repo = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: repo });

async function ruleIdsFor(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repo, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

const importing = (spec: string): string => `import { x } from '${spec}';\nexport const f = x;\n`;

describe('core/ stays pure and depends on no adapter', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'core/ does no I/O'],
    ["import { request } from 'node:http';\nexport const f = request;\n", 'core/ does no I/O'],
    ["import { main } from '../plugin/cli.ts';\nexport const f = main;\n", 'adapters → core'],
    [importing('../adapters/log.ts'), 'adapters → core'],
    [importing('../scheduler/extender.ts'), 'adapters → core'],
    [importing('../dev/pki.ts'), 'adapters → core'],
    ["import { KubeConfig } from '@kubernetes/client-node';\nexport const f = KubeConfig;\n", 'belongs to adapters'],
    ["import { randomUUID } from 'node:crypto';\nexport const f = randomUUID;\n", 'deterministic'],
    ['export const t = Date.now();\n', 'reads no clock'],
    ['export const t = new Date();\n', 'reads no clock'],
    ['export const r = Math.random();\n', 'deterministic'],
    ['export const e = process.env.HOME;\n', 'reads no environment'],
  ])('rejects %j', async (code, why) => {
    const ids = await ruleIdsFor(code, 'core/__probe__.ts');
    expect(ids.some((m) => m.includes(why)), ids.join('\n')).toBe(true);
  });

  it('allows the same code in an adapter, and hashing in core', async () => {
    expect(await ruleIdsFor("import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'plugin/__probe__.ts')).toEqual([]);
    expect(await ruleIdsFor("import { createHash } from 'node:crypto';\nexport const f = createHash;\n", 'core/__probe__.ts')).toEqual([]);
  });
});

describe('no program imports another program\'s folder', () => {
  it.each([
    ['agent/__probe__.ts', '../webhook/server.ts'],
    ['agent/proto/__probe__.ts', '../../plugin/cli.ts'],
    ['webhook/__probe__.ts', '../agent/kube.ts'],
    ['plugin/__probe__.ts', '../agent/views.ts'],
    ['plugin/__probe__.ts', '../scheduler/extender.ts'],
    ['scheduler/__probe__.ts', '../agent/agent.ts'],
    ['scheduler/__probe__.ts', '../webhook/classes.ts'],
    ['scheduler/__probe__.ts', '../plugin/live.ts'],
    ['webhook/__probe__.ts', '../scheduler/cluster.ts'],
    ['agent/__probe__.ts', '../scheduler/placements.ts'],
  ])('%s may not import %s', async (file, spec) => {
    const ids = await ruleIdsFor(importing(spec), file);
    expect(ids.some((m) => m.includes('is a program: it imports core/ and adapters/, never another program')), ids.join('\n')).toBe(true);
  });

  it('allows core/ and adapters/ in a program, and other programs in its tests', async () => {
    expect(await ruleIdsFor(`${importing('../core/plan.ts')}import { y } from '../adapters/log.ts';\nexport const g = y;\n`, 'scheduler/__probe__.ts')).toEqual([]);
    expect(await ruleIdsFor(importing('../agent/api.ts'), 'plugin/__probe__.test.ts')).toEqual([]);
  });
});

describe('adapters/ imports core/ only', () => {
  it.each(['../agent/kube.ts', '../webhook/server.ts', '../plugin/live.ts', '../scheduler/extender.ts'])('rejects %s', async (spec) => {
    const ids = await ruleIdsFor(importing(spec), 'adapters/__probe__.ts');
    expect(ids.some((m) => m.includes('adapters/ is shared by every program and imports core/ only')), ids.join('\n')).toBe(true);
  });

  it('allows core/', async () => {
    expect(await ruleIdsFor(importing('../core/objects.ts'), 'adapters/__probe__.ts')).toEqual([]);
  });
});

describe('production code imports no development or test folder', () => {
  it.each([
    ['adapters/__probe__.ts', '../dev/pki.ts'],
    ['agent/__probe__.ts', '../test/builders.ts'],
    ['agent/__probe__.ts', '../dev/controlplane/controlplane.ts'],
    ['webhook/__probe__.ts', '../dev/harness/webhook.ts'],
    ['webhook/__probe__.ts', '../bench/render.bench.ts'],
    ['plugin/__probe__.ts', '../scripts/demo.ts'],
    ['plugin/__probe__.ts', '../bpf/vm.ts'],
    ['scheduler/__probe__.ts', '../test/builders.ts'],
    ['scheduler/__probe__.ts', '../dev/controlplane/controlplane.ts'],
    ['scheduler/__probe__.ts', '../bench/scheduler.bench.ts'],
  ])('%s may not import %s', async (file, spec) => {
    const ids = await ruleIdsFor(importing(spec), file);
    expect(ids.some((m) => m.includes('production code (core/, adapters/, programs) never imports')), ids.join('\n')).toBe(true);
  });

  it('allows test helpers in tests, and production code in dev/, bench/ and scripts/', async () => {
    expect(await ruleIdsFor(importing('../test/builders.ts'), 'agent/__probe__.test.ts')).toEqual([]);
    expect(await ruleIdsFor(importing('../../webhook/server.ts'), 'dev/harness/__probe__.ts')).toEqual([]);
    expect(await ruleIdsFor(importing('../dev/controlplane/controlplane.ts'), 'scripts/__probe__.ts')).toEqual([]);
  });
});

describe('no import cycles', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'temper-cycles-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the walker finds a cycle, type-only and through a folder', () => {
    mkdirSync(join(tmp, 'plugin'));
    writeFileSync(join(tmp, 'plugin', 'cli.ts'), "import { run } from './command.ts';\nexport const main = run;\n");
    writeFileSync(join(tmp, 'plugin', 'command.ts'), "import type { Io } from './cli.ts';\nexport { util } from '../util.ts';\nexport const run = (io: Io) => io;\n");
    writeFileSync(join(tmp, 'util.ts'), "export const util = 1;\nconst later = () => import('./plugin/cli.ts');\n");
    writeFileSync(join(tmp, 'leaf.ts'), "import { util } from './util.ts';\nexport const y = util;\n");
    expect(importCycles(importGraph(tmp))).toEqual([['plugin/cli.ts', 'plugin/command.ts', 'util.ts']]);
  });

  it('the repository has none', () => {
    const graph = importGraph(repo);
    expect(graph.get('plugin/cli.ts')).toContain('plugin/config-command.ts'); // the walker sees the real imports
    expect(importCycles(graph)).toEqual([]);
  });
});
