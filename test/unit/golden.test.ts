// Golden cases: manifests in, exact bytes out (test/golden/README.md). UPDATE_GOLDEN=1 rewrites them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyPods, plan, serializeDistribution, tierRowOf } from '../../core/plan.ts';
import { podCgroupPath } from '../../core/layers.ts';
import { validateLayeredConfig } from '../../core/scx.ts';
import { matchTask } from '../../core/scx-match.ts';
import { containerCgroupName } from '../../bpf/guest.ts';
import { readManifests, readNode, readPolicy } from '../../plugin/manifests.ts';
import { checkGolden as check } from '../golden-file.ts';

const root = join(import.meta.dirname, '..', 'golden');
const cases = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

function input(dir: string, file: string): string {
  const own = join(dir, file);
  return existsSync(own) ? own : join(root, '..', '..', 'manifests', 'examples', file);
}

describe('the golden check', () => {
  it('fails when a want file is missing (creating it only with UPDATE_GOLDEN=1), and when it differs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'temper-golden-'));
    try {
      const path = join(dir, 'want.tiers.json');
      expect(() => check(path, '[]\n', false)).toThrow('want.tiers.json is missing; run with UPDATE_GOLDEN=1 to create it');
      expect(existsSync(path)).toBe(false);
      check(path, '[]\n', true); // what UPDATE_GOLDEN=1 does
      expect(readFileSync(path, 'utf8')).toBe('[]\n');
      expect(() => check(path, '[1]\n', false)).toThrow('want.tiers.json differs; rerun with UPDATE_GOLDEN=1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('golden cases', () => {
  it('has the cases the engine must cover', () => {
    expect(cases).toEqual(expect.arrayContaining(['examples', 'empty-node', 'demotion', 'many-pods', 'cgroupfs', 'two-cpu-fence', 'hints-systemd', 'hints-cgroupfs', 'profiles-hints', 'profiles-cgroup']));
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
      check(join(dir, 'want.layered.json'), result.configJson);
    });
    it('puts every pod\'s tasks in its layer under the scx_layered matching model (with its task hint, if any)', () => {
      for (const p of result.pods) {
        const cgroupPath = `${podCgroupPath(policy.node.cgroupDriver, p.assignment.qosClass, p.pod.uid)}${containerCgroupName(policy.node.cgroupDriver, p.pod.uid, 'app')}/`;
        expect(matchTask(result.config, { cgroupPath, comm: 'app', hint: p.assignment.hint }).layer, `${p.pod.namespace}/${p.pod.name}`).toBe(p.assignment.layer);
      }
    });
    it('publishes want.distribution.json', () => {
      check(join(dir, 'want.distribution.json'), `${serializeDistribution(result.distribution)}\n`);
    });
    it('warns as want.warnings.json', () => {
      check(join(dir, 'want.warnings.json'), `${JSON.stringify(result.warnings, null, 2)}\n`);
    });
    it('lists want.tiers.json', () => {
      const rows = classifyPods(policy, objects.pods, objects.priorityClasses).map(tierRowOf);
      check(join(dir, 'want.tiers.json'), `${JSON.stringify(rows, null, 2)}\n`);
    });
  });
});
