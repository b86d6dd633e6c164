import { describe, expect, it } from 'vitest';
import { parsePolicy, tierClasses } from './config.ts';
import { agentNodeAnnotations, mutatingWebhookConfiguration } from './install-objects.ts';
import { formerClassNames, publishedAnnotations, readAnnotation, readKeys, releaseFullname, safeModeRequested, temperKeys, webhookConfigurationName, webhookName, writePrefixes } from './names.ts';
import { classifyPods } from './plan.ts';
import { pod } from '../test/builders.ts';
import { problemsOf } from '../test/builders.ts';

const policyOf = (toml: string) => parsePolicy(toml, 'temper.toml');
const infera = policyOf('');
const temper = policyOf('[naming]\nnames = "temper"\n');
const migrating = policyOf('[naming]\nnames = "temper"\nmigration = true\n');

describe('[naming] names selects what Temper writes', () => {
  it.each([
    ['infera (the default)', infera, 'infera.io', 'infera-critical', 'qos-defaulting.infera.io'],
    ['temper', temper, 'temper.codes', 'temper-critical', 'qos-defaulting.temper.codes'],
    ['temper in migration mode', migrating, 'temper.codes', 'temper-critical', 'qos-defaulting.temper.codes'],
  ])('%s', (_what, p, prefix, critical, webhook) => {
    expect(temperKeys(p).safeModeRequested).toBe(`${prefix}/safe-mode-requested`);
    expect(p.naming.priorityClasses.critical).toBe(critical);
    expect(p.naming.priorityClasses.background).toBe(critical.replace('critical', 'background'));
    expect(webhookName(p)).toBe(webhook);
  });

  it('explicit keys override the set', () => {
    const p = policyOf('[naming]\nnames = "temper"\nannotation_prefix = "qos.example.com"\n[naming.priority_classes]\nhigh = "gold"\n');
    expect(p.naming.annotationPrefix).toBe('qos.example.com');
    expect(p.naming.priorityClasses).toEqual({ critical: 'temper-critical', high: 'gold', normal: 'temper-normal', low: 'temper-low', background: 'temper-background' });
    expect(readKeys(p, 'agentStatus')).toEqual(['qos.example.com/agent-status', 'infera.io/agent-status', 'temper.codes/agent-status']);
  });
});

describe('readers honour both sets whatever is selected', () => {
  it.each([
    ['infera', infera, ['infera.io/safe-mode-requested', 'temper.codes/safe-mode-requested']],
    ['temper', temper, ['temper.codes/safe-mode-requested', 'infera.io/safe-mode-requested']],
  ])('%s reads safe mode under both prefixes, its own first', (_what, p, keys) => {
    expect(readKeys(p, 'safeModeRequested')).toEqual(keys);
  });

  it.each([
    [{}, false],
    [{ 'infera.io/safe-mode-requested': 'true' }, true],
    [{ 'temper.codes/safe-mode-requested': 'true' }, true],
    [{ 'infera.io/safe-mode-requested': 'false', 'temper.codes/safe-mode-requested': 'true' }, true],
    [{ 'infera.io/safe-mode-requested': 'true', 'temper.codes/safe-mode-requested': 'false' }, true],
    [{ 'infera.io/safe-mode-requested': 'yes' }, false],
    [{ 'other.io/safe-mode-requested': 'true' }, false],
  ])('safe mode on %j: %s under either selection (either true wins)', (annotations, want) => {
    expect(safeModeRequested(infera, annotations)).toBe(want);
    expect(safeModeRequested(temper, annotations)).toBe(want);
  });

  it('an annotation is read under the selected prefix first, then the other', () => {
    const both = { 'infera.io/qos-distribution': 'old', 'temper.codes/qos-distribution': 'new' };
    expect(readAnnotation(temper, both, 'qosDistribution')).toBe('new');
    expect(readAnnotation(infera, both, 'qosDistribution')).toBe('old');
    expect(readAnnotation(temper, { 'infera.io/qos-distribution': 'old' }, 'qosDistribution')).toBe('old');
    expect(readAnnotation(temper, {}, 'qosDistribution')).toBeUndefined();
  });

  it('the webhook opt-out label works under either prefix (namespace and object selectors)', () => {
    for (const p of [infera, temper]) {
      const mwc = mutatingWebhookConfiguration(p, { url: 'https://127.0.0.1/mutate', caBundlePem: 'x' }) as { webhooks: { objectSelector: { matchExpressions: { key: string }[] }; namespaceSelector: { matchExpressions: { key: string }[] } }[] };
      const keys = ['infera.io/qos-defaulting', 'temper.codes/qos-defaulting'];
      expect(mwc.webhooks[0]?.objectSelector.matchExpressions.map((e) => e.key).sort()).toEqual(keys);
      expect(mwc.webhooks[0]?.namespaceSelector.matchExpressions.map((e) => e.key).filter((k) => k !== 'kubernetes.io/metadata.name').sort()).toEqual(keys);
    }
  });

  it('pods naming either set\'s classes tier identically, without spec.priority (resolved offline)', () => {
    for (const p of [infera, temper, migrating]) {
      const pods = ['critical', 'high', 'normal', 'low', 'background'].flatMap((tier) => [
        pod({ name: `i-${tier}`, className: `infera-${tier}` }),
        pod({ name: `t-${tier}`, className: `temper-${tier}` }),
      ]);
      const tiers = Object.fromEntries(classifyPods(p, pods, []).map((r) => [r.pod.name, r.assignment.tier]));
      for (const tier of ['critical', 'high', 'normal', 'low', 'background']) {
        expect(tiers[`i-${tier}`]).toBe(tier);
        expect(tiers[`t-${tier}`]).toBe(tier);
      }
    }
  });
});

describe('migration mode writes both', () => {
  it.each([
    ['infera', infera, ['infera.io']],
    ['temper', temper, ['temper.codes']],
    ['temper, migration', migrating, ['temper.codes', 'infera.io']],
    ['infera, migration', policyOf('[naming]\nmigration = true\n'), ['infera.io', 'temper.codes']],
  ])('%s: the agent publishes under %j', (_what, p, prefixes) => {
    expect(writePrefixes(p)).toEqual(prefixes);
  });

  it.each([
    ['temper', temper, { 'temper.codes/agent-status': 's', 'temper.codes/qos-distribution': 'd', 'infera.io/agent-status': null, 'infera.io/qos-distribution': null, 'other.io/x': 'x' }],
    ['temper, migration', migrating, { 'temper.codes/agent-status': 's', 'temper.codes/qos-distribution': 'd', 'infera.io/agent-status': 's', 'infera.io/qos-distribution': 'd', 'other.io/x': 'x' }],
  ])('%s: the agent publishes its values under the prefixes it writes and removes them under the others', (_what, p, want) => {
    expect(publishedAnnotations(p, { 'temper.codes/agent-status': 's', 'temper.codes/qos-distribution': 'd', 'other.io/x': 'x' })).toEqual(want);
  });

  it('installs both class sets with identical values per tier, the selected set first', () => {
    const classes = tierClasses(migrating).map((c) => [c.name, c.value, c.preemptionPolicy]);
    expect(classes).toEqual([
      ['temper-critical', 1_000_000, 'PreemptLowerPriority'], ['temper-high', 100_000, 'PreemptLowerPriority'], ['temper-normal', 0, 'PreemptLowerPriority'], ['temper-low', -100, 'PreemptLowerPriority'], ['temper-background', -101, 'Never'],
      ['infera-critical', 1_000_000, 'PreemptLowerPriority'], ['infera-high', 100_000, 'PreemptLowerPriority'], ['infera-normal', 0, 'PreemptLowerPriority'], ['infera-low', -100, 'PreemptLowerPriority'], ['infera-background', -101, 'Never'],
    ]);
    expect(tierClasses(temper).map((c) => c.name)).toEqual(['temper-critical', 'temper-high', 'temper-normal', 'temper-low', 'temper-background']);
  });

  it('the agent may change its two annotations under every honoured prefix (it removes those it no longer writes)', () => {
    expect(agentNodeAnnotations(temper)).toEqual(['temper.codes/qos-distribution', 'temper.codes/agent-status', 'infera.io/qos-distribution', 'infera.io/agent-status']);
  });

  it('the former classes are the other set\'s', () => {
    expect(formerClassNames(temper).map((c) => c.name)).toEqual(['infera-critical', 'infera-high', 'infera-normal', 'infera-low', 'infera-background']);
    expect(formerClassNames(infera).map((c) => `${c.name}:${c.tier}`)).toEqual(['temper-critical:critical', 'temper-high:high', 'temper-normal:normal', 'temper-low:low', 'temper-background:background']);
  });
});

describe('[naming] validation', () => {
  it.each([
    ['an unknown set', '[naming]\nnames = "tempr"\n', ['temper.toml: naming.names: must be one of infera, temper (got "tempr")']],
    ['a non-boolean migration', '[naming]\nmigration = "yes"\n', ['temper.toml: naming.migration: must be true or false (got "yes")']],
    ['a typo', '[naming]\nmigrate = true\n', ['temper.toml: naming.migrate: unknown key']],
    ['in migration mode, a class that is the other set\'s class of another tier', '[naming]\nnames = "temper"\nmigration = true\n[naming.priority_classes]\nlow = "infera-normal"\n',
      ['temper.toml: naming.priority_classes.low: is "infera-normal", the normal class that migration mode also installs (with normal\'s value)']],
    ['every problem at once', '[naming]\nnames = 3\nmigration = 1\n', ['temper.toml: naming.names: must be one of infera, temper (got 3)', 'temper.toml: naming.migration: must be true or false (got 1)']],
  ])('rejects %s', (_what, toml, want) => {
    expect(problemsOf(toml)).toEqual(want);
  });

  it('outside migration mode another set\'s class name is allowed for any tier', () => {
    expect(() => policyOf('[naming]\nnames = "temper"\n[naming.priority_classes]\nlow = "infera-normal"\n')).not.toThrow();
  });
});

describe('cluster-scoped objects are named after the release (the chart\'s temper.fullname)', () => {
  it.each([
    ['temper', {}, 'temper'],
    ['a', {}, 'a-temper'],
    ['temper-canary', {}, 'temper-canary'],
    ['infera', {}, 'infera-temper'],
    ['a', { nameOverride: 'qos' }, 'a-qos'],
    ['a', { fullnameOverride: 'edge' }, 'edge'],
    // Cut to 50 characters, then one trailing "-" dropped, as sprig's trunc and trimSuffix do.
    [`${'x'.repeat(42)}-abcdefghij`, {}, `${'x'.repeat(42)}-abcdefg`],
    [`${'x'.repeat(49)}-temper`, {}, 'x'.repeat(49)],
  ])('release %s %j: %s', (release, overrides, want) => {
    expect(releaseFullname(release, overrides)).toBe(want);
  });

  it('the webhook registration: temper-qos-defaulting for `helm install temper`, <fullname>-qos-defaulting otherwise', () => {
    const target = { url: 'https://127.0.0.1/mutate', caBundlePem: 'x' };
    const nameOf = (o: Record<string, unknown>): unknown => (o.metadata as { name: string }).name;
    expect(nameOf(mutatingWebhookConfiguration(infera, target))).toBe('temper-qos-defaulting');
    expect(nameOf(mutatingWebhookConfiguration(infera, target, { fullname: releaseFullname('a') }))).toBe('a-temper-qos-defaulting');
    expect(webhookConfigurationName('b-temper')).toBe('b-temper-qos-defaulting');
  });
});
