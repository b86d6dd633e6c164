/**
 * The scx_layered dialect: the config schema Temper emits, its hard limits, canonical
 * serialisation, and a validator that re-implements scx_layered's structural checks
 * (verify_layer_specs and friends, see bpf/SCHEMA.md) plus Temper's stricter ones. Only this
 * module knows scx_layered's field names; if the scheduler changes, this file changes.
 */
import { show, isRecord } from './errors.ts';

/** Limits from scx_layered's intf.h / main.rs for the pinned version (bpf/SCHEMA.md). */
export const SCX_LIMITS = {
  /** MAX_LAYERS: layers in one config, catch-all included. */
  maxLayers: 16,
  /** MAX_LAYER_MATCH_ORS: OR blocks per layer. */
  maxOrBlocks: 32,
  /** NR_LAYER_MATCH_KINDS: AND conditions per OR block. */
  maxAndConditions: 26,
  /** MAX_PATH including the NUL byte: cgroup match strings are at most 4095 bytes. */
  maxCgroupMatchBytes: 4095,
  /** MAX_COMM including the NUL byte: comm prefixes are at most 15 bytes. */
  maxCommBytes: 15,
  /** MAX_LAYER_NAME including the NUL byte. */
  maxNameBytes: 127,
  /** MAX_CGROUP_REGEXES: CgroupRegex clauses across the whole config. */
  maxCgroupRegexes: 16,
  /**
   * Pod UIDs Temper puts in one CgroupRegex clause. Rust's regex crate refuses patterns whose
   * compiled form exceeds 10 MiB, which a UID alternation reaches near 4,700 UIDs (bpf/SCHEMA.md);
   * larger sets are split over several clauses.
   */
  maxRegexPods: 1000,
  /** Task-hint values (the hint map has 1025 entries). */
  maxHint: 1024,
  /** Layer weights are clamped to [1, 10000]; Temper emits only values inside. */
  minWeight: 1,
  maxWeight: 10000,
} as const;

/** scx_layered's layer kinds: Confined and Grouped have a CPU allocation, Open has none. */
export const LAYER_KINDS = ['Confined', 'Grouped', 'Open'] as const;
export type LayerKindName = (typeof LAYER_KINDS)[number];

/** scx_layered's growth algorithms (layer_core_growth.rs), the values `growth_algo` accepts. */
export const GROWTH_ALGOS = [
  'Sticky', 'Linear', 'Reverse', 'Random', 'Topo', 'RoundRobin', 'BigLittle', 'LittleBig', 'NodeSpread',
  'NodeSpreadReverse', 'NodeSpreadRandom', 'CpuSetSpread', 'CpuSetSpreadReverse', 'CpuSetSpreadRandom',
  'RandomTopo', 'StickyDynamic',
] as const;
export type GrowthAlgo = (typeof GROWTH_ALGOS)[number];

/** One match condition, externally tagged as scx_layered's `LayerMatch` enum. */
export type LayerMatch =
  | { readonly CgroupPrefix: string }
  | { readonly CgroupRegex: string }
  | { readonly PcommPrefix: string }
  /** The thread's own comm (workload profiles' thread groups); at most 15 bytes, like PcommPrefix. */
  | { readonly CommPrefix: string }
  /** A task whose hint map entry equals this (0..=1024); scx_layered wants it alone in its AND block. */
  | { readonly HintEquals: number };

/** Properties every kind shares (scx_layered's `LayerCommon`), the subset Temper sets. */
export interface LayerCommon {
  readonly min_exec_us?: number;
  readonly yield_ignore?: number;
  readonly slice_us: number;
  readonly preempt: boolean;
  readonly exclusive: boolean;
  readonly weight: number;
  readonly growth_algo?: GrowthAlgo;
}

export interface SizedKindFields extends LayerCommon {
  readonly util_range: readonly [number, number];
  readonly cpus_range: readonly [number, number];
  readonly protected: boolean;
}

export type LayerKind =
  | { readonly Confined: SizedKindFields }
  | { readonly Grouped: SizedKindFields }
  | { readonly Open: LayerCommon };

export interface LayerSpec {
  readonly name: string;
  readonly comment: string;
  readonly matches: readonly (readonly LayerMatch[])[];
  readonly kind: LayerKind;
}

/** A whole scx_layered config: a bare array of layer specs, catch-all last. */
export type LayeredConfig = readonly LayerSpec[];

/**
 * Canonical bytes of a config: two-space indent, keys in construction order, trailing newline.
 * Identical inputs give identical bytes; their sha256 is the config's identity.
 */
export function serializeConfig(config: LayeredConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Escapes a literal for use inside a Rust `regex` pattern (also valid JS RegExp syntax). */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

// ---------------------------------------------------------------------------------------------
// Validation

const COMMON_KEYS: Readonly<Record<string, 'u64' | 'f64' | 'bool' | 'u32' | 'special'>> = {
  min_exec_us: 'u64', yield_ignore: 'f64', slice_us: 'u64', fifo: 'bool', preempt: 'bool', preempt_first: 'bool',
  exclusive: 'bool', allow_node_aligned: 'special', skip_remote_node: 'bool', prev_over_idle_core: 'bool', weight: 'special',
  disallow_open_after_us: 'special', disallow_preempt_after_us: 'special', xllc_mig_min_us: 'f64', idle_smt: 'special',
  growth_algo: 'special', util_peak_half_life_ms: 'u64', perf: 'special', idle_resume_us: 'special', nodes: 'special',
  llcs: 'special', placement: 'special', member_expire_ms: 'u64', xnuma_threshold: 'special', xnuma_threshold_delta: 'special',
};

const KIND_KEYS: Readonly<Record<LayerKindName, readonly string[]>> = {
  Confined: ['util_range', 'cpus_range', 'cpus_range_frac', 'membw_gb', 'protected'],
  Grouped: ['util_range', 'util_includes_open_cputime', 'cpus_range', 'cpus_range_frac', 'membw_gb', 'protected', 'idle_confined'],
  Open: [],
};

const GROWTH: ReadonlySet<string> = new Set(GROWTH_ALGOS);

type MatchArg = 'string' | 'i32' | 'u32' | 'u64' | 'bool' | 'f64' | 'pair-u64' | 'pair-nspid';
const MATCH_KINDS: Readonly<Record<string, MatchArg>> = {
  CgroupPrefix: 'string', CgroupSuffix: 'string', CgroupContains: 'string', CgroupRegex: 'string',
  CommPrefix: 'string', CommPrefixExclude: 'string', PcommPrefix: 'string', PcommPrefixExclude: 'string',
  NiceAbove: 'i32', NiceBelow: 'i32', NiceEquals: 'i32', UIDEquals: 'u32', GIDEquals: 'u32', PIDEquals: 'u32',
  PPIDEquals: 'u32', TGIDEquals: 'u32', NSPIDEquals: 'pair-nspid', NSEquals: 'u32', CmdJoin: 'string',
  IsGroupLeader: 'bool', IsKthread: 'bool', UsedGpuTid: 'bool', UsedGpuPid: 'bool', AvgRuntime: 'pair-u64',
  HintEquals: 'u64', SystemCpuUtilBelow: 'f64', DsqInsertBelow: 'f64', NumaNode: 'u32',
};

const CGROUP_STRING_MATCHES = new Set(['CgroupPrefix', 'CgroupSuffix', 'CgroupContains']);
const COMM_MATCHES = new Set(['CommPrefix', 'CommPrefixExclude', 'PcommPrefix', 'PcommPrefixExclude', 'CmdJoin']);

const isInt = (v: unknown, min: number, max: number): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;

function argOk(arg: MatchArg, v: unknown): boolean {
  switch (arg) {
    case 'string': return typeof v === 'string';
    case 'i32': return isInt(v, -2147483648, 2147483647);
    case 'u32': return isInt(v, 0, 4294967295);
    case 'u64': return isInt(v, 0, Number.MAX_SAFE_INTEGER);
    case 'bool': return typeof v === 'boolean';
    case 'f64': return isNum(v);
    case 'pair-u64': return Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x, 0, Number.MAX_SAFE_INTEGER));
    case 'pair-nspid': return Array.isArray(v) && v.length === 2 && isInt(v[0], 0, Number.MAX_SAFE_INTEGER) && isInt(v[1], 0, 4294967295);
  }
}

/** Rust's `regex` crate has no look-around or backreferences; JS would accept them. */
function regexProblem(pattern: string): string | null {
  if (/\(\?<?[=!]/.test(pattern)) return 'look-around is not supported by Rust regex';
  if (/\\[1-9]/.test(pattern)) return 'backreferences are not supported by Rust regex';
  try {
    new RegExp(pattern, 'u');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

interface HintOwner { readonly layer: string; readonly hint: number }

function validateMatch(m: unknown, at: string, spec: string, out: string[]): { regex: boolean; hint: number | null; kind: string | null } {
  const none = { regex: false, hint: null, kind: null };
  if (!isRecord(m) || Object.keys(m).length !== 1) {
    out.push(`${at}: a match must be an object with exactly one key (got ${show(m)})`);
    return none;
  }
  const [kind = '', arg] = Object.entries(m)[0] ?? [];
  const argType = MATCH_KINDS[kind];
  if (argType === undefined) {
    out.push(`${at}: unknown match kind ${show(kind)}`);
    return none;
  }
  if (!argOk(argType, arg)) {
    out.push(`${at}: ${kind} expects a ${argType} argument (got ${show(arg)})`);
    return none;
  }
  if (CGROUP_STRING_MATCHES.has(kind) && utf8Bytes(arg as string) > SCX_LIMITS.maxCgroupMatchBytes) {
    out.push(`${at}: Spec "${spec}" has too long a cgroup ${kind.slice(6).toLowerCase()} (${utf8Bytes(arg as string)} bytes, max ${SCX_LIMITS.maxCgroupMatchBytes})`);
  }
  if (COMM_MATCHES.has(kind) && utf8Bytes(arg as string) > SCX_LIMITS.maxCommBytes) {
    out.push(`${at}: Spec "${spec}" has too long a comm prefix (${utf8Bytes(arg as string)} bytes, max ${SCX_LIMITS.maxCommBytes})`);
  }
  if (kind === 'CgroupRegex') {
    const bad = regexProblem(arg as string);
    if (bad !== null) out.push(`${at}: Invalid regex ${show(arg)} in layer '${spec}': ${bad}`);
  }
  if (kind === 'HintEquals' && (arg as number) > SCX_LIMITS.maxHint) {
    out.push(`${at}: Spec "${spec}" has hint value outside the range [0, ${SCX_LIMITS.maxHint}]`);
  }
  if ((kind === 'SystemCpuUtilBelow' || kind === 'DsqInsertBelow') && !((arg as number) >= 0 && (arg as number) <= 1)) {
    out.push(`${at}: ${kind} must be within [0, 1] (got ${show(arg)})`);
  }
  if (kind === 'IsKthread' && arg === false) {
    out.push(`${at}: IsKthread(false) also matches kernel threads in scx_layered's BPF; not allowed`);
  }
  return { regex: kind === 'CgroupRegex', hint: kind === 'HintEquals' ? (arg as number) : null, kind };
}

function validateBlock(block: unknown, at: string, spec: string, out: string[], hints: HintOwner[]): number {
  if (!Array.isArray(block)) {
    out.push(`${at}: an OR block must be a list of match conditions (got ${show(block)})`);
    return 0;
  }
  if (block.length > SCX_LIMITS.maxAndConditions) {
    out.push(`${at}: Spec "${spec}"'s ${at.replace(/.*\[(\d+)\]$/, '$1')}th OR block has too many (${block.length}) match conditions`);
  }
  let regexes = 0;
  const kinds: string[] = [];
  let hint: number | null = null;
  block.forEach((m, j) => {
    const r = validateMatch(m, `${at}[${j}]`, spec, out);
    if (r.regex) regexes++;
    if (r.kind !== null) kinds.push(r.kind);
    if (r.hint !== null) hint = r.hint;
  });
  const hintCount = kinds.filter((k) => k === 'HintEquals').length;
  const gates = kinds.filter((k) => k === 'SystemCpuUtilBelow' || k === 'DsqInsertBelow').length;
  if (hintCount > 1 || (hintCount === 1 && kinds.length - 1 !== gates)) {
    out.push(`${at}: HintEquals match cannot be in conjunction with other matches`);
  }
  if (gates > 0 && hintCount !== 1) out.push(`${at}: SystemCpuUtilBelow/DsqInsertBelow need exactly one HintEquals in the same block`);
  if (hint !== null) {
    const h: number = hint;
    const owner = hints.find((o) => o.hint === h && o.layer !== spec);
    if (owner !== undefined) out.push(`${at}: Spec "${spec}" has hint value (${h}) that is already mapped to Spec "${owner.layer}"`);
    hints.push({ layer: spec, hint: h });
  }
  return regexes;
}

function validatePair(v: unknown, at: string, name: string, integer: boolean, out: string[]): [number, number] | null {
  const ok = Array.isArray(v) && v.length === 2 && v.every((x) => (integer ? isInt(x, 0, Number.MAX_SAFE_INTEGER) : isNum(x)));
  if (!ok) {
    out.push(`${at}.${name}: must be a pair of ${integer ? 'non-negative integers' : 'numbers'} (got ${show(v)})`);
    return null;
  }
  return [v[0] as number, v[1] as number];
}

function validateKind(kindObj: unknown, at: string, spec: string, out: string[]): void {
  if (!isRecord(kindObj) || Object.keys(kindObj).length !== 1) {
    out.push(`${at}: kind must be exactly one of {"Confined":{…}}, {"Grouped":{…}}, {"Open":{…}} (got ${show(kindObj)})`);
    return;
  }
  const [kindName = '', fields] = Object.entries(kindObj)[0] ?? [];
  if (!(kindName in KIND_KEYS)) {
    out.push(`${at}: unknown layer kind ${show(kindName)}`);
    return;
  }
  const k = kindName as LayerKindName;
  const fat = `${at}.${k}`;
  if (!isRecord(fields)) {
    out.push(`${fat}: must be an object (got ${show(fields)})`);
    return;
  }
  for (const key of Object.keys(fields)) {
    if (!(key in COMMON_KEYS) && !KIND_KEYS[k].includes(key)) {
      out.push(`${fat}.${key}: unknown key for ${k} (scx_layered would silently ignore it)`);
    }
  }
  for (const [key, type] of Object.entries(COMMON_KEYS)) {
    const v = fields[key];
    if (v === undefined) continue;
    if ((type === 'u64' && !isInt(v, 0, Number.MAX_SAFE_INTEGER)) || (type === 'f64' && !isNum(v)) || (type === 'bool' && typeof v !== 'boolean')) {
      out.push(`${fat}.${key}: must be ${type === 'bool' ? 'a boolean' : type === 'f64' ? 'a number' : 'a non-negative integer'} (got ${show(v)})`);
    }
  }
  if (fields.weight !== undefined && !isInt(fields.weight, SCX_LIMITS.minWeight, SCX_LIMITS.maxWeight)) {
    out.push(`${fat}.weight: must be an integer in [${SCX_LIMITS.minWeight}, ${SCX_LIMITS.maxWeight}] (got ${show(fields.weight)})`);
  }
  if (fields.growth_algo !== undefined && !GROWTH.has(String(fields.growth_algo))) {
    out.push(`${fat}.growth_algo: unknown growth algorithm ${show(fields.growth_algo)}`);
  }
  if (fields.placement !== undefined && !['Standard', 'Sticky', 'Floating'].includes(String(fields.placement))) {
    out.push(`${fat}.placement: must be Standard, Sticky or Floating (got ${show(fields.placement)})`);
  }
  if (fields.perf !== undefined && !isInt(fields.perf, 0, 1024)) out.push(`${fat}.perf: must be an integer in [0, 1024] (got ${show(fields.perf)})`);
  if (fields.yield_ignore !== undefined && isNum(fields.yield_ignore) && !(fields.yield_ignore >= 0 && fields.yield_ignore <= 1)) {
    out.push(`${fat}.yield_ignore: must be within [0, 1] (got ${show(fields.yield_ignore)})`);
  }
  if (k === 'Open') {
    if (isInt(fields.util_peak_half_life_ms, 1, Number.MAX_SAFE_INTEGER)) out.push(`${fat}.util_peak_half_life_ms: needs util_range, which Open layers lack`);
    return;
  }
  if (fields.util_range === undefined) {
    out.push(`${fat}: missing field \`util_range\``);
  } else {
    const u = validatePair(fields.util_range, fat, 'util_range', false, out);
    const ceiling = k === 'Grouped' && fields.util_includes_open_cputime === true ? Infinity : 1;
    if (u !== null && !(u[0] >= 0 && u[0] < u[1] && u[1] <= ceiling)) {
      out.push(`${fat}.util_range: Spec "${spec}" has invalid util_range (${u[0]}, ${u[1]})`);
    }
  }
  if (fields.cpus_range !== undefined && fields.cpus_range !== null) {
    const c = validatePair(fields.cpus_range, fat, 'cpus_range', true, out);
    if (c !== null && c[0] > c[1]) out.push(`${fat}.cpus_range: Spec "${spec}" has invalid cpus_range(${c[0]}, ${c[1]})`);
    if (c !== null && k === 'Confined' && c[1] === 0) out.push(`${fat}.cpus_range: a Confined layer needs a maximum above 0`);
    if (fields.cpus_range_frac !== undefined && fields.cpus_range_frac !== null) {
      out.push(`${fat}: cpus_range cannot be used with cpus_range_frac`);
    }
  }
  if (fields.cpus_range_frac !== undefined && fields.cpus_range_frac !== null) {
    const f = validatePair(fields.cpus_range_frac, fat, 'cpus_range_frac', false, out);
    if (f !== null && !(f[0] >= 0 && f[0] <= f[1] && f[1] <= 1)) out.push(`${fat}.cpus_range_frac: must satisfy 0 ≤ min ≤ max ≤ 1 (got [${f[0]}, ${f[1]}])`);
  }
  for (const flag of ['protected', 'util_includes_open_cputime', 'idle_confined']) {
    if (fields[flag] !== undefined && typeof fields[flag] !== 'boolean') out.push(`${fat}.${flag}: must be a boolean (got ${show(fields[flag])})`);
  }
  if (fields.membw_gb !== undefined && fields.membw_gb !== null) out.push(`${fat}.membw_gb: needs PMU support scx_layered may panic without; not allowed`);
}

const SPEC_KEYS = new Set(['name', 'comment', 'matches', 'kind', 'template']);

/**
 * Checks a config against scx_layered's structural rules (layer count, catch-all last with
 * exactly `[[]]`, OR/AND counts, string lengths, util/cpus ranges, hint rules, regex count and
 * syntax) and Temper's stricter ones (no unknown keys, unique ASCII names, no empty AND block
 * before the catch-all). Returns every problem found; an empty list means the config is valid.
 * Messages reuse scx_layered's own wording where it has one.
 */
export function validateLayeredConfig(config: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(config)) return [`config must be a bare JSON array of layer specs (got ${show(config)})`];
  if (config.length === 0) return ['No layer spec'];
  if (config.length > SCX_LIMITS.maxLayers) out.push(`Too many layer specs (${config.length}, max ${SCX_LIMITS.maxLayers})`);
  const names = new Set<string>();
  const hints: HintOwner[] = [];
  let regexes = 0;
  config.forEach((spec: unknown, i) => {
    const at = `[${i}]`;
    if (!isRecord(spec)) {
      out.push(`${at}: a layer spec must be an object (got ${show(spec)})`);
      return;
    }
    for (const key of Object.keys(spec)) if (!SPEC_KEYS.has(key)) out.push(`${at}.${key}: unknown key (scx_layered would silently ignore it)`);
    const name = typeof spec.name === 'string' ? spec.name : `#${i}`;
    if (typeof spec.name !== 'string' || spec.name === '') out.push(`${at}.name: required, a non-empty string`);
    else if (!/^[\x20-\x7e]+$/.test(spec.name) || spec.name.length > SCX_LIMITS.maxNameBytes) {
      out.push(`${at}.name: must be printable ASCII of at most ${SCX_LIMITS.maxNameBytes} bytes (got ${show(spec.name)})`);
    } else if (names.has(spec.name)) out.push(`${at}.name: duplicate layer name ${show(spec.name)}`);
    names.add(name);
    if (spec.comment !== undefined && typeof spec.comment !== 'string') out.push(`${at}.comment: must be a string`);
    if (spec.template !== undefined) {
      const t = spec.template;
      if (!isRecord(t) || !(('CgroupSuffix' in t) || ('CgroupRegex' in t)) || Object.keys(t).length !== 1) {
        out.push(`${at}.template: only CgroupSuffix and CgroupRegex templates are implemented`);
      }
    }
    const last = i === config.length - 1;
    const matches = spec.matches;
    if (!Array.isArray(matches)) {
      out.push(`${at}.matches: required, a list of OR blocks (got ${show(matches)})`);
    } else if (last) {
      if (!(matches.length === 1 && Array.isArray(matches[0]) && matches[0].length === 0)) out.push(`${at}: Terminal spec "${name}" must have an empty match`);
    } else {
      if (matches.length === 0) out.push(`${at}: Non-terminal spec "${name}" has NULL matches`);
      if (matches.length > SCX_LIMITS.maxOrBlocks) out.push(`${at}: Spec "${name}" has too many (${matches.length}) OR match blocks`);
      matches.forEach((block: unknown, j) => {
        if (Array.isArray(block) && block.length === 0) {
          out.push(`${at}.matches[${j}]: an empty AND block matches every task and would shadow every later layer`);
        }
        regexes += validateBlock(block, `${at}.matches[${j}]`, name, out, hints);
      });
    }
    if (spec.kind === undefined) out.push(`${at}.kind: required`);
    else validateKind(spec.kind, `${at}.kind`, name, out);
  });
  if (regexes > SCX_LIMITS.maxCgroupRegexes) out.push(`Too many cgroup regex rules. Maximum allowed: ${SCX_LIMITS.maxCgroupRegexes} (got ${regexes})`);
  return out;
}
