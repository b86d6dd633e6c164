import { describe, expect, it } from 'vitest';
import { escapeRegex, SCX_LIMITS, serializeConfig, validateLayeredConfig } from './scx.ts';

const catchAll = { name: 'rest', matches: [[]], kind: { Open: {} } };
const grouped = (extra: Record<string, unknown> = {}) => ({ Grouped: { util_range: [0.5, 0.8], ...extra } });
const layer = (name: string, matches: unknown, kind: unknown = grouped()) => ({ name, matches, kind });
const prefix = (s: string) => ({ CgroupPrefix: s });
const valid = () => [layer('a', [[prefix('kubepods.slice/')]]), catchAll];

/** Validates `config` and returns the problems; asserts at least one mentions `pattern`. */
function rejects(config: unknown, pattern: RegExp): void {
  const problems = validateLayeredConfig(config);
  expect(problems.some((p) => pattern.test(p)), `expected ${pattern} in ${JSON.stringify(problems)}`).toBe(true);
}

describe('validateLayeredConfig: scx_layered structural rules', () => {
  it('accepts the smallest valid config and a typical one', () => {
    expect(validateLayeredConfig([catchAll])).toEqual([]);
    expect(validateLayeredConfig(valid())).toEqual([]);
  });

  it('top level must be a bare array', () => rejects({ specs: valid() }, /bare JSON array/));
  it('needs a layer', () => rejects([], /^No layer spec$/));
  it('at most 16 layers', () => {
    const many = Array.from({ length: 16 }, (_, i) => layer(`l${i}`, [[prefix(`p${i}/`)]]));
    expect(validateLayeredConfig([...many.slice(0, 15), catchAll])).toEqual([]);
    rejects([...many, catchAll], /Too many layer specs \(17, max 16\)/);
  });
  it('the last layer must match exactly [[]]', () => {
    rejects([layer('a', [[prefix('x/')]])], /Terminal spec "a" must have an empty match/);
    rejects([{ ...catchAll, matches: [] }], /Terminal spec/);
    rejects([{ ...catchAll, matches: [[], []] }], /Terminal spec/);
  });
  it('non-terminal layers need matches and no empty AND block', () => {
    rejects([layer('a', []), catchAll], /Non-terminal spec "a" has NULL matches/);
    rejects([layer('a', [[prefix('x/')], []]), catchAll], /empty AND block matches every task/);
  });
  it('at most 32 OR blocks per layer', () => {
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => [prefix(`p${i}/`)]);
    expect(validateLayeredConfig([layer('a', blocks(32)), catchAll])).toEqual([]);
    rejects([layer('a', blocks(33)), catchAll], /Spec "a" has too many \(33\) OR match blocks/);
  });
  it(`at most ${SCX_LIMITS.maxAndConditions} AND conditions per block`, () => {
    const and = (n: number) => [Array.from({ length: n }, (_, i) => ({ CgroupContains: `c${i}` }))];
    expect(validateLayeredConfig([layer('a', and(SCX_LIMITS.maxAndConditions)), catchAll])).toEqual([]);
    rejects([layer('a', and(SCX_LIMITS.maxAndConditions + 1)), catchAll], /0th OR block has too many \(27\) match conditions/);
  });
  it('cgroup match strings at most 4095 bytes', () => {
    expect(validateLayeredConfig([layer('a', [[prefix('x'.repeat(4095))]]), catchAll])).toEqual([]);
    rejects([layer('a', [[prefix('x'.repeat(4096))]]), catchAll], /too long a cgroup prefix/);
    rejects([layer('a', [[{ CgroupSuffix: 'é'.repeat(2048) }]]), catchAll], /too long a cgroup suffix \(4096 bytes/);
  });
  it('comm prefixes at most 15 bytes', () => {
    expect(validateLayeredConfig([layer('a', [[{ PcommPrefix: 'x'.repeat(15) }]]), catchAll])).toEqual([]);
    rejects([layer('a', [[{ CommPrefix: 'x'.repeat(16) }]]), catchAll], /too long a comm prefix/);
    rejects([layer('a', [[{ PcommPrefixExclude: 'x'.repeat(16) }]]), catchAll], /too long a comm prefix/);
  });
  it('match kinds and argument types', () => {
    rejects([layer('a', [[{ PodEquals: 'x' }]]), catchAll], /unknown match kind "PodEquals"/);
    rejects([layer('a', [[{ NiceAbove: 'x' }]]), catchAll], /NiceAbove expects a i32/);
    rejects([layer('a', [[{ CgroupPrefix: 'a', CgroupSuffix: 'b' }]]), catchAll], /exactly one key/);
    rejects([layer('a', [[{ IsKthread: false }]]), catchAll], /IsKthread\(false\)/);
  });
  it('hint rules', () => {
    rejects([layer('a', [[{ HintEquals: 2000 }]]), catchAll], /hint value outside the range \[0, 1024\]/);
    rejects([layer('a', [[{ HintEquals: 1 }, { CommPrefix: 'x' }]]), catchAll], /HintEquals match cannot be in conjunction/);
    expect(validateLayeredConfig([layer('a', [[{ HintEquals: 1 }, { SystemCpuUtilBelow: 0.5 }]]), catchAll])).toEqual([]);
    rejects([layer('a', [[{ SystemCpuUtilBelow: 0.5 }]]), catchAll], /need exactly one HintEquals/);
    rejects([layer('a', [[{ HintEquals: 3 }]]), layer('b', [[{ HintEquals: 3 }]]), catchAll], /Spec "b" has hint value \(3\) that is already mapped to Spec "a"/);
    // what hints placement renders: several values in one layer, beside ordinary blocks (M:4672-4790 checks per AND block)
    expect(validateLayeredConfig([layer('a', [[{ HintEquals: 4 }], [{ HintEquals: 5 }], [prefix('kubepods/burstable/')]]), catchAll])).toEqual([]);
    // the catch-all cannot map one: the terminal spec must be exactly [[]] (M:4659-4661)
    rejects([layer('a', [[prefix('x/')]]), { ...catchAll, matches: [[{ HintEquals: 7 }]] }], /Terminal spec "rest" must have an empty match/);
  });
  it('util_range: required, 0 ≤ low < high', () => {
    rejects([layer('a', [[prefix('x/')]], { Confined: { cpus_range: [1, 2] } }), catchAll], /missing field `util_range`/);
    rejects([layer('a', [[prefix('x/')]], grouped({ util_range: [0.9, 0.8] })), catchAll], /invalid util_range \(0.9, 0.8\)/);
    rejects([layer('a', [[prefix('x/')]], grouped({ util_range: [-0.1, 0.8] })), catchAll], /invalid util_range/);
    expect(validateLayeredConfig([layer('a', [[prefix('x/')]], grouped({ util_range: [0.5, 1.5], util_includes_open_cputime: true })), catchAll])).toEqual([]);
  });
  it('cpus_range: min ≤ max, Confined max > 0, not with cpus_range_frac', () => {
    rejects([layer('a', [[prefix('x/')]], grouped({ cpus_range: [4, 2] })), catchAll], /invalid cpus_range\(4, 2\)/);
    rejects([layer('a', [[prefix('x/')]], { Confined: { util_range: [0.1, 0.2], cpus_range: [0, 0] } }), catchAll], /Confined layer needs a maximum above 0/);
    rejects([layer('a', [[prefix('x/')]], grouped({ cpus_range: [1, 2], cpus_range_frac: [0.1, 0.2] })), catchAll], /cannot be used with cpus_range_frac/);
    rejects([layer('a', [[prefix('x/')]], grouped({ cpus_range_frac: [0.5, 1.2] })), catchAll], /cpus_range_frac/);
    rejects([layer('a', [[prefix('x/')]], grouped({ cpus_range: [1.5, 2] })), catchAll], /pair of non-negative integers/);
  });
  it('at most 16 CgroupRegex clauses in total, each a valid Rust regex', () => {
    const regexLayers = (n: number) => Array.from({ length: n }, (_, i) => layer(`r${i}`, [[{ CgroupRegex: `^/sys/fs/cgroup/r${i}$` }]]));
    expect(validateLayeredConfig([...regexLayers(15), catchAll])).toEqual([]);
    const seventeen = [layer('a', [[{ CgroupRegex: 'a' }], [{ CgroupRegex: 'b' }]]), ...regexLayers(15), catchAll];
    rejects(seventeen, /Too many cgroup regex rules\. Maximum allowed: 16 \(got 17\)/);
    rejects([layer('a', [[{ CgroupRegex: '(' }]]), catchAll], /Invalid regex "\(" in layer 'a'/);
    rejects([layer('a', [[{ CgroupRegex: 'a(?=b)' }]]), catchAll], /look-around/);
    rejects([layer('a', [[{ CgroupRegex: '(a)\\1' }]]), catchAll], /backreferences/);
  });
  it('names: present, printable ASCII, at most 127 bytes, unique', () => {
    rejects([{ ...catchAll, name: '' }], /name: required/);
    rejects([{ ...catchAll, name: 'x'.repeat(128) }], /printable ASCII of at most 127/);
    rejects([{ ...catchAll, name: 'ünï' }], /printable ASCII/);
    rejects([layer('rest', [[prefix('x/')]]), catchAll], /duplicate layer name "rest"/);
  });
  it('unknown keys are errors (scx_layered would ignore them silently)', () => {
    rejects([layer('a', [[prefix('x/')]], grouped({ slice_usec: 100 })), catchAll], /Grouped\.slice_usec: unknown key for Grouped/);
    rejects([{ ...catchAll, kind: { Open: { util_range: [0.1, 0.2] } } }], /Open\.util_range: unknown key for Open/);
    rejects([{ ...catchAll, matchs: [] }], /\[0\]\.matchs: unknown key/);
  });
  it('kinds and common fields are typed', () => {
    rejects([{ ...catchAll, kind: { Fenced: {} } }], /unknown layer kind "Fenced"/);
    rejects([{ ...catchAll, kind: { Open: {}, Grouped: {} } }], /exactly one of/);
    rejects([{ ...catchAll, kind: { Open: { weight: 0 } } }], /weight: must be an integer in \[1, 10000\]/);
    rejects([{ ...catchAll, kind: { Open: { slice_us: -5 } } }], /slice_us: must be a non-negative integer/);
    rejects([{ ...catchAll, kind: { Open: { preempt: 'yes' } } }], /preempt: must be a boolean/);
    rejects([{ ...catchAll, kind: { Open: { growth_algo: 'Fast' } } }], /unknown growth algorithm/);
    rejects([{ ...catchAll, kind: { Open: { util_peak_half_life_ms: 5 } } }], /needs util_range/);
    rejects([layer('a', [[prefix('x/')]], grouped({ membw_gb: 1 })), catchAll], /membw_gb/);
  });
  it('templates only with CgroupSuffix or CgroupRegex', () => {
    rejects([{ ...layer('a', [[prefix('x/')]]), template: { CgroupPrefix: 'x' } }, catchAll], /only CgroupSuffix and CgroupRegex templates/);
  });
});

describe('serializeConfig', () => {
  it('is two-space JSON with a trailing newline', () => {
    expect(serializeConfig([{ name: 'rest', comment: '', matches: [[]], kind: { Open: { slice_us: 1, preempt: false, exclusive: false, weight: 1 } } }]))
      .toBe('[\n  {\n    "name": "rest",\n    "comment": "",\n    "matches": [\n      []\n    ],\n    "kind": {\n      "Open": {\n        "slice_us": 1,\n        "preempt": false,\n        "exclusive": false,\n        "weight": 1\n      }\n    }\n  }\n]\n');
  });
});

describe('escapeRegex', () => {
  it('escapes every metacharacter so a literal matches itself only', () => {
    const literal = 'kubepods.slice/a-b_c(1)[2]{3}+*?^$|\\';
    const re = new RegExp(`^${escapeRegex(literal)}$`, 'u');
    expect(re.test(literal)).toBe(true);
    expect(re.test(literal.replace('.', 'x'))).toBe(false);
  });
});
