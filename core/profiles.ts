/**
 * Workload profiles (docs/profiles.md): a profile names the thread groups inside one workload
 * and gives each a treatment inside its pod's tier. This module holds the model, the strict
 * parser of profile files, the catalog (built-ins overridden by files, keyed by node shape) and
 * the rule that puts one thread in one group. Selection is core/profiles-select.ts, rendering
 * into scx_layered layers and task hints core/profiles-render.ts.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError, Problems, isRecord, problemAt, show, within } from './errors.ts';
import type { Problem } from './errors.ts';
import { SCX_LIMITS } from './scx.ts';
import { BUILTIN_PROFILES_TOML } from './profiles-builtin.ts';

/**
 * What a group gets inside its pod's tier, never more than the tier has:
 * - `exclusive`: whole cores of their own, SMT siblings kept idle (Critical's fenced cores only);
 * - `latency`: a short slice on CPUs of their own carved from the tier, preempting where the tier does;
 * - `yield`: only idle time, as Background gets it.
 */
export const TREATMENTS = ['exclusive', 'latency', 'yield'] as const;
export type Treatment = (typeof TREATMENTS)[number];

/** One group of a workload's threads and its treatment. */
export interface ThreadGroup {
  readonly name: string;
  readonly treatment: Treatment;
  /** Thread-name prefixes as the kernel stores comm (at most 15 bytes); empty: every thread of `process`. */
  readonly threads: readonly string[];
  /** Prefix of the process name (the thread-group leader's comm, scx_layered's PcommPrefix), or null for any. */
  readonly process: string | null;
  /**
   * Substrings of the process title (`/proc/<pid>/cmdline`, which PostgreSQL and Redis rewrite
   * while their comm stays the binary's). Only the agent can read it, so such a group is placed
   * by task hints only (`placement = "hints"`); never combined with `threads` or `process`.
   */
  readonly titles: readonly string[];
  /** Whole cores per pod for an `exclusive` or `latency` group, or null for the default (docs/profiles.md). */
  readonly cores: number | null;
}

/** The node shapes a profile is meant for; null bounds are open. */
export interface ShapeMatch {
  readonly minCpus: number | null;
  readonly maxCpus: number | null;
  /** true: only SMT nodes (threads_per_core > 1); false: only nodes without; null: either. */
  readonly smt: boolean | null;
}

/** A validated profile: one variant of a name, for the node shapes in `shape`. */
export interface Profile {
  /** A DNS label; what the `workload-profile` annotation names. */
  readonly name: string;
  readonly description: string;
  /** Container-image patterns (core/profiles-select.ts), in the order written. */
  readonly images: readonly string[];
  readonly shape: ShapeMatch;
  /** In precedence order: a thread belongs to the first group whose selectors hold. */
  readonly groups: readonly ThreadGroup[];
  /** `built-in`, or the file and table it came from (`db.toml profile[1]`). */
  readonly source: string;
  readonly builtin: boolean;
}

/** Every profile known: the built-ins and the variants read from profile files (in file order). */
export interface ProfileCatalog {
  readonly builtins: readonly Profile[];
  readonly files: readonly Profile[];
}

/** A profile file as the agent read it from its configuration directory. */
export interface ProfileFile {
  readonly name: string;
  readonly text: string;
}

/** The node as shape keys see it: whole CPUs and whether its cores have SMT siblings. */
export interface NodeShape {
  readonly cpus: number;
  readonly smt: boolean;
}

/** The annotation value that turns profiles off for a pod; no profile may take this name. */
export const NO_PROFILE = 'none';

/** Most thread prefixes a group may list: each is one OR block of a layer (SCX_LIMITS.maxOrBlocks). */
const MAX_THREAD_PREFIXES = SCX_LIMITS.maxOrBlocks;
const MAX_CORES = 1024;
const MAX_SHAPE_CPUS = 8192;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Image references: registry, path, tag; `*` matches any run of characters (profiles-select.ts).
const IMAGE_PATTERN = /^[A-Za-z0-9*][A-Za-z0-9._\-/:*]*$/;

const bytes = (s: string): number => new TextEncoder().encode(s).length;

// ---------------------------------------------------------------------------------------------
// Reading: every table is read against a schema of named fields; a key without a field is an
// error, each field records its own problems and yields undefined for a bad value.

type Field<T> = (value: unknown, key: string, problems: Problems) => T | undefined;
type Schema = Readonly<Record<string, Field<unknown>>>;
/** The good values of a table, and `given`: the keys it had, good or bad (so `required` is said only of absent ones). */
type Read<S extends Schema> = { -readonly [K in keyof S]?: S[K] extends Field<infer T> ? T : never } & { readonly given: ReadonlySet<string> };

function readTable<S extends Schema>(raw: Record<string, unknown>, at: string, schema: S, problems: Problems): Read<S> {
  const out: Record<string, unknown> = { given: new Set(Object.keys(raw)) };
  for (const [k, v] of Object.entries(raw)) {
    const field = schema[k];
    const key = at === '' ? k : `${at}.${k}`;
    if (field === undefined) {
      problems.add(key, `unknown key (keys here are ${Object.keys(schema).join(', ')})`);
      continue;
    }
    const value = field(v, key, problems);
    if (value !== undefined) out[k] = value;
  }
  return out as Read<S>;
}

/** A string the check accepts; the check returns what is wrong, or null. */
const text = (check: (s: string) => string | null = () => null): Field<string> => (v, key, problems) => {
  if (typeof v !== 'string') {
    problems.add(key, 'must be a string', v);
    return undefined;
  }
  const bad = check(v);
  if (bad !== null) {
    problems.add(key, bad, v);
    return undefined;
  }
  return v;
};

const integer = (min: number, max: number): Field<number> => (v, key, problems) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.add(key, `must be an integer from ${min} to ${max}`, v);
    return undefined;
  }
  return v;
};

const flag: Field<boolean> = (v, key, problems) => {
  if (typeof v !== 'boolean') {
    problems.add(key, 'must be true or false', v);
    return undefined;
  }
  return v;
};

const oneOf = <T extends string>(allowed: readonly T[]): Field<T> => (v, key, problems) => {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    problems.add(key, `must be one of ${allowed.join(', ')}`, v);
    return undefined;
  }
  return v as T;
};

/** A list of values; each bad item is named by its index, and the good ones are kept. */
const list = <T>(item: Field<T>, maxItems: number): Field<T[]> => (v, key, problems) => {
  if (!Array.isArray(v)) {
    problems.add(key, 'must be a list', v);
    return undefined;
  }
  if (v.length > maxItems) problems.add(key, `must have at most ${maxItems} items (got ${v.length})`);
  const out: T[] = [];
  v.forEach((x: unknown, i) => {
    const r = item(x, `${key}[${i}]`, problems);
    if (r !== undefined) out.push(r);
  });
  return out;
};

const table = <S extends Schema>(schema: S): Field<Read<S>> => (v, key, problems) => {
  if (!isRecord(v)) {
    problems.add(key, 'must be a table', v);
    return undefined;
  }
  return readTable(v, key, schema, problems);
};

/** An array of tables (`[[profile]]`), each read against `schema`, with its key. */
const tables = <S extends Schema>(schema: S): Field<{ key: string; fields: Read<S> }[]> => (v, key, problems) => {
  if (!Array.isArray(v) || !v.every(isRecord)) {
    problems.add(key, `must be an array of tables ([[${key.split('.').at(-1) ?? key}]])`, v);
    return undefined;
  }
  return v.map((t, i) => ({ key: `${key}[${i}]`, fields: readTable(t, `${key}[${i}]`, schema, problems) }));
};

function checkComm(s: string): string | null {
  if (s === '') return 'must not be empty';
  if (s.includes('\0')) return 'must not contain a NUL byte';
  const n = bytes(s);
  return n > SCX_LIMITS.maxCommBytes ? `must be at most ${SCX_LIMITS.maxCommBytes} bytes, as the kernel stores a thread name (got ${n} bytes; write the truncated name)` : null;
}

function checkName(s: string): string | null {
  if (s === NO_PROFILE) return `"${NO_PROFILE}" is reserved: the annotation value that turns profiles off for a pod`;
  return s.length <= 63 && NAME.test(s) ? null : 'must be a lowercase DNS label (at most 63 characters)';
}

function checkImage(s: string): string | null {
  if (s.length > 255) return 'must be at most 255 characters';
  if (s.includes('@')) return 'must not name a digest: patterns match the repository and tag';
  return IMAGE_PATTERN.test(s) ? null : 'must be an image reference pattern: letters, digits, . _ - / : and * (any characters)';
}

function checkTitle(s: string): string | null {
  if (s.trim() === '') return 'must not be empty';
  return s.length > 256 ? 'must be at most 256 characters' : null;
}

const GROUP_SCHEMA = {
  name: text(checkName),
  treatment: oneOf(TREATMENTS),
  threads: list(text(checkComm), MAX_THREAD_PREFIXES),
  process: text(checkComm),
  titles: list(text(checkTitle), MAX_THREAD_PREFIXES),
  cores: integer(1, MAX_CORES),
} as const;

const SHAPE_SCHEMA = { min_cpus: integer(1, MAX_SHAPE_CPUS), max_cpus: integer(1, MAX_SHAPE_CPUS), smt: flag } as const;

const PROFILE_SCHEMA = {
  name: text(checkName),
  description: text((s) => (s.length > 400 ? 'must be at most 400 characters' : null)),
  images: list(text(checkImage), 64),
  shape: table(SHAPE_SCHEMA),
  group: tables(GROUP_SCHEMA),
} as const;

const FILE_SCHEMA = { profile: tables(PROFILE_SCHEMA) } as const;

/** Two prefixes overlap when one starts with the other: some name would match both. */
const overlaps = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);

/** Whether two groups' static (comm) selectors can hold for one thread. */
function commOverlap(a: ThreadGroup, b: ThreadGroup): [string, string] | null {
  if (a.titles.length > 0 || b.titles.length > 0) return null;
  if (a.process !== null && b.process !== null && !overlaps(a.process, b.process)) return null;
  const as = a.threads.length === 0 ? [''] : a.threads;
  const bs = b.threads.length === 0 ? [''] : b.threads;
  for (const x of as) for (const y of bs) if (overlaps(x, y)) return [x, y];
  return null;
}

/** Problems in a table are recorded as found; any problem at all makes parseProfileFiles throw. */
function readGroup(key: string, g: Read<typeof GROUP_SCHEMA>, problems: Problems): ThreadGroup | null {
  const threads = g.threads ?? [];
  const titles = g.titles ?? [];
  const process = g.process ?? null;
  for (const required of ['name', 'treatment'] as const) if (!g.given.has(required)) problems.add(`${key}.${required}`, 'required');
  if (!['threads', 'process', 'titles'].some((k) => g.given.has(k))) {
    problems.add(key, 'needs threads, process or titles: a group must say which threads it holds');
  }
  if (g.given.has('titles') && (g.given.has('threads') || g.given.has('process'))) {
    problems.add(`${key}.titles`, 'cannot be combined with threads or process: titles are matched by the agent alone, comm names by the scheduler too');
  }
  threads.forEach((t, i) => {
    const j = threads.findIndex((u, k) => k !== i && t.startsWith(u) && (u !== t || k < i));
    if (j >= 0) problems.add(`${key}.threads[${i}]`, `is covered by ${show(threads[j])} (threads[${j}]): every thread it names already matches that prefix`, t);
  });
  if (g.given.has('cores') && g.treatment === 'yield') problems.add(`${key}.cores`, 'only exclusive and latency groups have cores of their own');
  if (g.name === undefined || g.treatment === undefined) return null;
  return { name: g.name, treatment: g.treatment, threads, process, titles, cores: g.cores ?? null };
}

function readShape(key: string, s: Read<typeof SHAPE_SCHEMA> | undefined, problems: Problems): ShapeMatch {
  const shape: ShapeMatch = { minCpus: s?.min_cpus ?? null, maxCpus: s?.max_cpus ?? null, smt: s?.smt ?? null };
  if (shape.minCpus !== null && shape.maxCpus !== null && shape.minCpus > shape.maxCpus) {
    problems.add(`${key}.max_cpus`, `must be at least min_cpus (got ${shape.maxCpus} < ${shape.minCpus})`);
  }
  return shape;
}

function readProfile(key: string, p: Read<typeof PROFILE_SCHEMA>, source: string, builtin: boolean, problems: Problems): Profile | null {
  if (!p.given.has('name')) problems.add(`${key}.name`, 'required');
  const shape = readShape(`${key}.shape`, p.shape, problems);
  const groups: { index: number; group: ThreadGroup }[] = [];
  for (const [index, { key: gkey, fields }] of (p.group ?? []).entries()) {
    const g = readGroup(gkey, fields, problems);
    if (g === null) continue;
    const same = groups.find((x) => x.group.name === g.name);
    if (same !== undefined) problems.add(`${gkey}.name`, `duplicates group[${same.index}]'s name`, g.name);
    for (const earlier of groups) {
      const clash = commOverlap(earlier.group, g);
      if (clash === null) continue;
      problems.add(`${gkey}.threads`, `${show(clash[1])} overlaps ${show(clash[0])} of group ${earlier.group.name} (group[${earlier.index}]): a thread named like both would fall in either, depending on layer order; make the prefixes disjoint or scope them with process`);
    }
    groups.push({ index, group: g });
  }
  if (p.name === undefined) return null;
  return { name: p.name, description: p.description ?? '', images: p.images ?? [], shape, groups: groups.map((g) => g.group), source, builtin };
}

/** Reads one TOML text into profiles, each with its table's key, and every problem in it. */
function readDocument(text: string, fileName: string, builtin: boolean): { profiles: { key: string; profile: Profile }[]; problems: Problem[] } {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      return { profiles: [], problems: [problemAt(`${fileName}:${err.line}:${err.column}`, `invalid TOML: ${err.message.split('\n')[0] ?? ''}`, err)] };
    }
    throw err;
  }
  const problems = new Problems();
  const root = readTable(doc, '', FILE_SCHEMA, problems);
  const profiles: { key: string; profile: Profile }[] = [];
  for (const { key, fields } of root.profile ?? []) {
    const profile = readProfile(key, fields, builtin ? 'built-in' : `${fileName} ${key}`, builtin, problems);
    if (profile !== null) profiles.push({ key, profile });
  }
  return { profiles, problems: within(fileName, problems.list) };
}

/** How specific a shape is: more keys set first, then the narrower CPU range. */
function specificity(s: ShapeMatch): [number, number] {
  const keys = [s.minCpus, s.maxCpus, s.smt].filter((x) => x !== null).length;
  const width = (s.maxCpus ?? MAX_SHAPE_CPUS) - (s.minCpus ?? 1);
  return [keys, width];
}

function shapesOverlap(a: ShapeMatch, b: ShapeMatch): boolean {
  const lo = Math.max(a.minCpus ?? 1, b.minCpus ?? 1);
  const hi = Math.min(a.maxCpus ?? MAX_SHAPE_CPUS, b.maxCpus ?? MAX_SHAPE_CPUS);
  return lo <= hi && (a.smt === null || b.smt === null || a.smt === b.smt);
}

/**
 * Parses the agent's profile files, every problem of every file at once, each naming its file
 * and key (`db.toml: profile[0].group[1].treatment: must be one of …`). Besides each file's own
 * rules (docs/profiles.md "Profile files"), two variants of one name that are equally specific
 * and whose node shapes overlap are an error: which one applies would be ambiguous.
 * Throws ConfigError; the built-ins are always part of the catalog.
 */
export function parseProfileFiles(files: readonly ProfileFile[]): ProfileCatalog {
  const problems: Problem[] = [];
  const variants: Profile[] = [];
  for (const f of files) {
    const r = readDocument(f.text, f.name, false);
    problems.push(...r.problems);
    for (const { key, profile: p } of r.profiles) {
      const twin = variants.find((q) => q.name === p.name && shapesOverlap(p.shape, q.shape) && specificity(p.shape).join() === specificity(q.shape).join());
      if (twin !== undefined) {
        problems.push({ at: [f.name], path: `${key}.shape`, message: `profile ${p.name} is as specific as ${twin.source} and their node shapes overlap, so which one applies would be ambiguous; narrow one of the shapes` });
      }
      variants.push(p);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { builtins: builtinCatalog(), files: variants };
}

let builtins: readonly Profile[] | null = null;

/**
 * The built-in profiles (core/profiles-builtin.ts), parsed once by the same strict reader as
 * any file, so a built-in cannot say anything a file could not.
 */
function builtinCatalog(): readonly Profile[] {
  if (builtins === null) {
    const r = readDocument(BUILTIN_PROFILES_TOML, 'built-in profiles', true);
    if (r.problems.length > 0) throw new ConfigError(r.problems);
    builtins = r.profiles.map((x) => x.profile);
  }
  return builtins;
}

/** The catalog without profile files: the built-ins only. */
export function builtinProfileCatalog(): ProfileCatalog {
  return { builtins: builtinCatalog(), files: [] };
}

/** Whether a profile variant is meant for a node of this shape. */
export function shapeMatches(s: ShapeMatch, node: NodeShape): boolean {
  return (s.minCpus === null || node.cpus >= s.minCpus) && (s.maxCpus === null || node.cpus <= s.maxCpus) && (s.smt === null || s.smt === node.smt);
}

/** A shape in words: `4–16 CPUs, SMT`, `any node`. */
export function describeShape(s: ShapeMatch): string {
  const cpus = s.minCpus === null && s.maxCpus === null ? null
    : s.maxCpus === null ? `≥ ${s.minCpus} CPUs`
      : s.minCpus === null ? `≤ ${s.maxCpus} CPUs`
        : s.minCpus === s.maxCpus ? `${s.minCpus} CPUs` : `${s.minCpus}–${s.maxCpus} CPUs`;
  const smt = s.smt === null ? null : s.smt ? 'SMT' : 'no SMT';
  const parts = [cpus, smt].filter((x) => x !== null);
  return parts.length === 0 ? 'any node' : parts.join(', ');
}

/** A profile in effect on one node, and why this variant. */
export interface ResolvedProfile {
  readonly profile: Profile;
  readonly why: string;
}

/**
 * The profiles in effect on a node of this shape, sorted by name: for each name, the most
 * specific file variant whose shape matches (more shape keys set, then the narrower CPU range;
 * parseProfileFiles rules out ties), overriding the built-in of the same name; else the built-in,
 * if its shape matches. A file variant for other shapes leaves the built-in in effect here.
 */
export function profilesForNode(catalog: ProfileCatalog, node: NodeShape): ResolvedProfile[] {
  const names = [...new Set([...catalog.builtins, ...catalog.files].map((p) => p.name))].sort();
  const out: ResolvedProfile[] = [];
  const nodeWords = `${node.cpus} CPU${node.cpus === 1 ? '' : 's'}, ${node.smt ? 'SMT' : 'no SMT'}`;
  for (const name of names) {
    const builtin = catalog.builtins.find((p) => p.name === name);
    const variants = catalog.files.filter((p) => p.name === name);
    const fitting = variants.filter((p) => shapeMatches(p.shape, node)).sort((a, b) => {
      const [ka, wa] = specificity(a.shape);
      const [kb, wb] = specificity(b.shape);
      return kb - ka || wa - wb;
    });
    const chosen = fitting[0];
    if (chosen !== undefined) {
      const of = fitting.length === 1 ? '' : `, the most specific of ${fitting.length} variants that fit`;
      out.push({ profile: chosen, why: `${chosen.source} (for ${describeShape(chosen.shape)}${of})${builtin === undefined ? '' : ', overriding the built-in'}` });
    } else if (builtin !== undefined && shapeMatches(builtin.shape, node)) {
      const none = variants.length === 0 ? '' : ` (no variant in the profile files fits this node: ${nodeWords})`;
      out.push({ profile: builtin, why: `built-in${none}` });
    }
  }
  return out;
}

/** A thread as profiles see it: its comm, its leader's comm, and its process title when the agent read it. */
export interface ThreadView {
  readonly comm: string;
  /** The thread-group leader's comm (what `process` matches). */
  readonly pcomm: string;
  /** The process title (`/proc/<pid>/cmdline`, NULs as spaces), or null when not read. */
  readonly title: string | null;
}

function truncateComm(s: string): string {
  const b = new TextEncoder().encode(s);
  return b.length <= SCX_LIMITS.maxCommBytes ? s : new TextDecoder().decode(b.slice(0, SCX_LIMITS.maxCommBytes));
}

/** Whether a group's selectors hold for a thread (comm names compared as the kernel keeps them). */
export function groupHolds(g: ThreadGroup, t: ThreadView): boolean {
  if (g.titles.length > 0) return t.title !== null && g.titles.some((s) => t.title?.includes(s) === true);
  const comm = truncateComm(t.comm);
  if (g.process !== null && !truncateComm(t.pcomm).startsWith(g.process)) return false;
  return g.threads.length === 0 || g.threads.some((p) => comm.startsWith(p));
}

/** The group a thread falls in: the first whose selectors hold, or null (it stays in its pod's tier). */
export function groupOfThread(profile: Profile, thread: ThreadView): ThreadGroup | null {
  return profile.groups.find((g) => groupHolds(g, thread)) ?? null;
}

/** Which threads a group holds, in words: `threads connection*, tp_worker* of process mysqld*`. */
export function describeSelectors(g: ThreadGroup): string {
  if (g.titles.length > 0) return `processes whose title contains ${g.titles.map((t) => JSON.stringify(t)).join(' or ')}`;
  const threads = g.threads.length === 0 ? 'every thread' : `threads ${g.threads.map((t) => `${t}*`).join(', ')}`;
  return g.process === null ? threads : `${threads} of process ${g.process}*`;
}

/** One row of `kubectl temper profiles`: a profile variant and where it comes from. */
export interface ProfileRow {
  readonly name: string;
  readonly source: string;
  readonly shape: string;
  readonly images: readonly string[];
  /** `name (treatment): selectors`, in precedence order. */
  readonly groups: readonly string[];
  readonly description: string;
}

/**
 * Every variant in the catalog, for listing: sorted by name, the built-in first, then the file
 * variants in file order. A file variant whose shape fits overrides the built-in (profilesForNode).
 */
export function profileRows(catalog: ProfileCatalog): ProfileRow[] {
  const all = [...catalog.builtins, ...catalog.files];
  const rank = (p: Profile): number => (p.builtin ? -1 : catalog.files.indexOf(p));
  return [...all].sort((a, b) => (a.name === b.name ? rank(a) - rank(b) : a.name < b.name ? -1 : 1)).map((p) => ({
    name: p.name,
    source: p.source,
    shape: describeShape(p.shape),
    images: p.images,
    groups: p.groups.map((g) => `${g.name} (${g.treatment}): ${describeSelectors(g)}`),
    description: p.description,
  }));
}
