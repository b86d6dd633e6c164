/**
 * `kubectl temper profiles` (every workload-profile variant and which is in effect on a node
 * shape), and the profile catalog and selection the other commands share (docs/profiles.md).
 */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Policy } from '../core/config.ts';
import type { Named } from '../core/names.ts';
import type { NodeShape, ProfileCatalog, ProfileRow } from '../core/profiles.ts';
import { builtinProfileCatalog, describeShape, parseProfileFiles, profileRows, profilesForNode } from '../core/profiles.ts';
import type { ProfileSelection, ProfileSubject } from '../core/profiles-select.ts';
import { profileContext, selectProfile } from '../core/profiles-select.ts';
import type { NodeInfo } from '../core/types.ts';
import { readPolicy, loadNode, readProfileFiles } from './manifests.ts';
import type { CliIo, ProfileFlags } from './options.ts';
import { configOption, profileOptions } from './options.ts';
import { plainTable } from './output.ts';

/** The built-ins, plus the profile files the flags name (read and parsed strictly: every problem at once). */
export function loadProfileCatalog(flags: ProfileFlags): ProfileCatalog {
  const files = readProfileFiles(flags.profilesDir, flags.profiles ?? []);
  return files.length === 0 ? builtinProfileCatalog() : parseProfileFiles(files);
}

/** A node's shape as plan() sees it: whole CPUs of its capacity, SMT from the policy's node.threads_per_core. */
export function nodeShapeOf(policy: Policy, node: NodeInfo): NodeShape {
  return { cpus: Math.floor(node.cpuCapacityMillis / 1000), smt: policy.node.threadsPerCore > 1 };
}

/**
 * Node shapes covering every case of the catalog: variants' shapes only change what is in effect
 * at their CPU bounds (min, max + 1) and between SMT and not, so one shape per interval suffices.
 */
function coveringShapes(catalog: ProfileCatalog): NodeShape[] {
  const cpus = new Set<number>([1]);
  for (const p of [...catalog.builtins, ...catalog.files]) {
    if (p.shape.minCpus !== null) cpus.add(p.shape.minCpus);
    if (p.shape.maxCpus !== null) cpus.add(p.shape.maxCpus + 1);
  }
  return [...cpus].sort((a, b) => a - b).flatMap((n) => [{ cpus: n, smt: false }, { cpus: n, smt: true }]);
}

/** A pod's profile when its node is not known: the selection, or the names it could have when that depends on the node. */
export type UnknownNodeSelection =
  | { readonly kind: 'selected'; readonly selection: ProfileSelection }
  | {
    readonly kind: 'depends';
    /** The profile names it could have (`none` among them when some shapes give none), sorted. */
    readonly names: readonly string[];
    /** The variants it could have, in words (`built-in`, `db.toml profile[0] (for ≥ 16 CPUs)`), `none` last. */
    readonly variants: readonly string[];
  };

/**
 * Selects a pod's profile without knowing its node: the selection every node shape would give,
 * or, when node shapes disagree (a profile file's variant for some shapes), the candidate names.
 */
export function selectWithoutNode(named: Named, subject: ProfileSubject, catalog: ProfileCatalog): UnknownNodeSelection {
  const selections = coveringShapes(catalog).map((shape) => selectProfile(named, subject, profileContext(catalog, shape)));
  const keyOf = (s: ProfileSelection): string => `${s.by} ${s.profile?.profile.source ?? ''} ${s.profile?.profile.name ?? ''}`;
  const first = selections[0];
  if (first !== undefined && selections.every((s) => keyOf(s) === keyOf(first))) return { kind: 'selected', selection: first };
  const names = [...new Set(selections.map((s) => s.profile?.profile.name ?? 'none'))].sort();
  const variant = (s: ProfileSelection): string => {
    const p = s.profile?.profile;
    return p === undefined ? 'none' : p.builtin ? `${p.name} built-in` : `${p.name} from ${p.source} (for ${describeShape(p.shape)})`;
  };
  const variants = [...new Set(selections.map(variant))].sort((a, b) => Number(a === 'none') - Number(b === 'none') || (a < b ? -1 : 1));
  return { kind: 'depends', names, variants };
}

/** The PROFILE cell of `tiers -o wide`: the profile's name, `-` for none, `?` when it depends on an unknown node. */
export function profileCell(named: Named, subject: ProfileSubject, catalog: ProfileCatalog, shape: NodeShape | null): string {
  const s = shape === null ? selectWithoutNode(named, subject, catalog) : { kind: 'selected' as const, selection: selectProfile(named, subject, profileContext(catalog, shape)) };
  // Variants of one name differ in their groups, not in the name the column shows.
  if (s.kind === 'depends') return s.names.length === 1 ? (s.names[0] === 'none' ? '-' : (s.names[0] ?? '?')) : '?';
  return s.selection.profile?.profile.name ?? '-';
}

/** The `explain pod` line when the pod's profile depends on a node shape not given. */
export function dependsOnNodeLine(variants: readonly string[]): string {
  const list = variants.length <= 1 ? variants.join('') : `${variants.slice(0, -1).join(', ')} or ${variants.at(-1) ?? ''}`;
  return `Profile:     depends on the node's CPUs and SMT: ${list}; pass --node NODE to see which`;
}

export const PROFILE_OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
type ProfileOutputFormat = (typeof PROFILE_OUTPUT_FORMATS)[number];

/** A `profiles -o json|yaml` row: core's ProfileRow, with `inEffect` when a node shape is given. */
type ProfileOutputRow = ProfileRow & { readonly inEffect?: boolean };

/** Renders the variants; `inEffect` (parallel to rows) adds the IN-EFFECT column when a node shape is given. */
export function formatProfileRows(rows: readonly ProfileRow[], format: ProfileOutputFormat, inEffect: readonly boolean[] | null, noHeaders: boolean): string {
  const out: ProfileOutputRow[] = rows.map((r, i) => (inEffect === null ? r : { ...r, inEffect: inEffect[i] === true }));
  if (format === 'json') return `${JSON.stringify(out, null, 2)}\n`;
  if (format === 'yaml') return stringify(out);
  const wide = format === 'wide';
  const head = ['NAME', 'SOURCE', 'SHAPE', 'IMAGES', 'GROUPS', ...(inEffect === null ? [] : ['IN-EFFECT']), ...(wide ? ['THREAD-GROUPS'] : [])];
  const body = rows.map((r, i) => [
    r.name, r.source, r.shape, r.images.length === 0 ? '-' : r.images.join(','), String(r.groups.length),
    ...(inEffect === null ? [] : [inEffect[i] === true ? 'yes' : '-']),
    ...(wide ? [r.groups.length === 0 ? '-' : r.groups.join('; ')] : []),
  ]);
  const table = plainTable(head, body);
  return noHeaders ? table.slice(table.indexOf('\n') + 1) : table;
}

interface ProfilesOptions extends ProfileFlags {
  output: ProfileOutputFormat;
  headers: boolean;
  node?: string;
  cpus?: number;
  smt?: boolean;
  config?: string;
}

function parseCpus(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 8192) throw new InvalidArgumentError('want a CPU count (1–8192)');
  return n;
}

/** `kubectl temper profiles`: every variant (profileRows), and with a node shape which one is in effect there. */
export function registerProfilesCommand(program: Command, io: CliIo, usageError: (message: string) => Error): void {
  profileOptions(configOption(program.command('profiles'), 'Temper configuration file (TOML); with --node, its node.threads_per_core says whether the node has SMT'))
    .description('list the workload profiles: the built-ins and the files given, every variant, and which is in effect on a node shape')
    .option('--node <node-file>', 'mark the variants in effect on this Node (YAML or JSON): its CPU capacity, SMT from --config or --smt')
    .addOption(new Option('--cpus <n>', 'mark the variants in effect on a node with this many CPUs').argParser(parseCpus))
    .option('--smt', 'the node has SMT (threads_per_core > 1); with --cpus or --node')
    .option('--no-headers', 'omit the table header')
    .addOption(new Option('-o, --output <format>', 'output format').choices([...PROFILE_OUTPUT_FORMATS]).default('table'))
    .action(async (opts: ProfilesOptions) => {
      if (opts.node !== undefined && opts.cpus !== undefined) throw usageError('profiles: give --node or --cpus, not both');
      if (opts.smt === true && opts.node === undefined && opts.cpus === undefined) throw usageError('profiles: --smt describes a node: give --cpus N or --node FILE with it');
      const catalog = loadProfileCatalog(opts);
      let shape: NodeShape | null = null;
      if (opts.node !== undefined) {
        const fromNode = nodeShapeOf(readPolicy(opts.config), await loadNode(opts.node));
        shape = { cpus: fromNode.cpus, smt: fromNode.smt || opts.smt === true };
      } else if (opts.cpus !== undefined) {
        shape = { cpus: opts.cpus, smt: opts.smt === true };
      }
      const rows = profileRows(catalog);
      const resolved = shape === null ? null : profilesForNode(catalog, shape);
      // A variant is identified by its name and source (`built-in`, or the file and table).
      const inEffect = resolved === null ? null : rows.map((r) => resolved.some((x) => x.profile.name === r.name && x.profile.source === r.source));
      io.stdout(formatProfileRows(rows, opts.output, inEffect, !opts.headers));
    });
}

