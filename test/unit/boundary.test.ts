// The core/ boundary is enforced by ESLint (eslint.config.js); this proves the rule bites.
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

async function ruleIdsFor(code: string, file: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repo });
  const [result] = await eslint.lintText(code, { filePath: join(repo, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

describe('core/ stays pure and depends on no adapter', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'core/ does no I/O'],
    ["import { request } from 'node:http';\nexport const f = request;\n", 'core/ does no I/O'],
    ["import { main } from '../plugin/cli.ts';\nexport const f = main;\n", 'adapters → core'],
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
