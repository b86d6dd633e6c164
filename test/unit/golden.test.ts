// Golden cases: manifests in, exact bytes out (test/golden/README.md). UPDATE_GOLDEN=1 rewrites them.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyPods, plan, serializeDistribution, tierRowOf } from '../../core/plan.ts';
import { validateLayeredConfig } from '../../core/scx.ts';
import { readManifests, readNode, readPolicy } from '../../plugin/manifests.ts';

const root = join(import.meta.dirname, '..', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

function input(dir: string, file: string): string {
  const own = join(dir, file);
  return existsSync(own) ? own : join(root, '..', '..', 'manifests', 'examples', file);
}

function check(dir: string, file: string, got: string): void {
  const path = join(dir, file);
  if (update || !existsSync(path)) writeFileSync(path, got);
  expect(got, `${path} differs; rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(readFileSync(path, 'utf8'));
}

describe('golden cases', () => {
  it('has the cases the engine must cover', () => {
    expect(cases).toEqual(expect.arrayContaining(['examples', 'empty-node', 'demotion', 'many-pods', 'cgroupfs']));
  });

  describe.each(cases)('%s', (name) => {
    const dir = join(root, name);
    const config = join(dir, 'config.toml');
    const policy = readPolicy(existsSync(config) ? config : undefined);
    const objects = readManifests(input(dir, 'pods.yaml'));
    const node = readNode(input(dir, 'node.yaml'));
    const result = plan(policy, node, objects.pods, objects.priorityClasses);

    it('renders want.layered.json, a valid scx_layered config', () => {
      expect(validateLayeredConfig(JSON.parse(result.configJson))).toEqual([]);
      check(dir, 'want.layered.json', result.configJson);
    });
    it('publishes want.distribution.json', () => {
      check(dir, 'want.distribution.json', `${serializeDistribution(result.distribution)}\n`);
    });
    it('lists want.tiers.json', () => {
      const rows = classifyPods(policy, objects.pods, objects.priorityClasses).map(tierRowOf);
      check(dir, 'want.tiers.json', `${JSON.stringify(rows, null, 2)}\n`);
    });
  });
});
