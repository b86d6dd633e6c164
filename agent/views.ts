/**
 * What the agent shows about itself: pure converters from generations, diffs and the agent's
 * status into the JSON the HTTP API returns (camelCase, fixed key order), and from those views
 * into the gRPC messages of agent/proto/temper/v1/agent.proto. Both APIs go through the same
 * views, and the lookups below word their errors once for both.
 */
import type { FieldChange, LayerChange, TierMove } from '../core/diff.ts';
import type { LayerPlan, PlanWarning } from '../core/layers.ts';
import type { PodProfileSelection, TierLoad } from '../core/plan.ts';
import type { PodProfilePlacement } from '../core/profiles-render.ts';
import type { EnforcementState, Tier } from '../core/types.ts';
import { TIERS } from '../core/types.ts';
import type { PlacementSummary, ProfileThread } from './hints.ts';
import type { AssignmentRow, Generation, GenerationDiff, GenerationStore } from './generations.ts';
import { KEPT_GENERATIONS } from './generations.ts';
import type { AgentStatus as AgentStatusMessage } from './proto/gen/temper/v1/AgentStatus.ts';
import type { Generation as GenerationMessage } from './proto/gen/temper/v1/Generation.ts';
import type { GenerationDiff as GenerationDiffMessage } from './proto/gen/temper/v1/GenerationDiff.ts';
import type { GenerationSummary as GenerationSummaryMessage } from './proto/gen/temper/v1/GenerationSummary.ts';
import type { PlanWarning as PlanWarningMessage } from './proto/gen/temper/v1/PlanWarning.ts';
import type { TierMove as TierMoveMessage } from './proto/gen/temper/v1/TierMove.ts';

// The view types are core's types reshaped for JSON (pairs become named ranges, optional flags
// become booleans, internals such as the rendered spec are left out); the converters below fix
// the key order of the wire format.

/** The agent's state on its node, as its supervisor reports it. */
export interface AgentStatus {
  node: string;
  state: EnforcementState;
  message: string;
  /** The generation being enforced (or last attempted), null before the first. */
  generation: number | null;
  sha256: string | null;
  /** The enforced generation's warnings: what this node cannot guarantee. */
  warnings: readonly PlanWarning[];
  /** `placement = "hints"` only: the task-hint placer's summary (absent in `cgroup` placement). */
  placement?: PlacementSummary;
}

/** A rendered layer (core's LayerPlan) without its spec, its ranges as objects. */
export type LayerView = Readonly<Omit<LayerPlan, 'cpusRange' | 'utilRange' | 'spec'> & {
  /** null for Open layers (no allocation). */
  cpusRange: { readonly min: number; readonly max: number } | null;
  utilRange: { readonly low: number; readonly high: number } | null;
}>;

/** One tier's load (core's TierLoad) with `demoted` always present. */
export type TierLoadView = Readonly<Required<{ [K in keyof TierLoad]: K extends 'demoted' ? boolean : TierLoad[K] }>>;

export type DistributionView = Readonly<Record<Tier, TierLoadView>>;

export type GenerationSummaryView = Readonly<Pick<Generation, 'number' | 'createdAt' | 'sha256' | 'moves'>>;

export type GenerationView = Readonly<Omit<Generation, 'config' | 'layers' | 'distribution' | 'warnings'> & {
  readonly warnings: readonly PlanWarning[];
  readonly layers: readonly LayerView[];
  readonly distribution: DistributionView;
}>;

export type FieldChangeView = FieldChange;

export type LayerChangeView = LayerChange;

export type DiffView = GenerationDiff;

/** One group of a profiled pod: where it runs and why, and the threads the agent last saw in it. */
export interface ProfileGroupView {
  readonly group: string;
  readonly treatment: string;
  readonly status: string;
  readonly layer: string;
  readonly hint: number | null;
  readonly cores: number | null;
  readonly code: string | null;
  readonly reason: string;
  /** TIDs ascending; null when the agent has not read the pod's threads. */
  readonly threads: readonly ProfileThread[] | null;
}

/** A pod's workload profile: which one, chosen how (`annotation`, `image`) and why, and its groups in the profile's order. */
export interface PodProfileView {
  readonly name: string;
  readonly by: string;
  readonly reason: string;
  readonly groups: readonly ProfileGroupView[];
}

/** A row of GET /api/v1/pods: the pod's tier row and its profile (null without one). */
export type PodRowView = AssignmentRow & { readonly profile: PodProfileView | null };

// ---- views (the HTTP JSON) ----------------------------------------------------------------

const warningView = (w: PlanWarning): PlanWarning => ({ code: w.code, tier: w.tier, message: w.message });

export function statusView(s: AgentStatus): AgentStatus {
  const view: AgentStatus = { node: s.node, state: s.state, message: s.message, generation: s.generation, sha256: s.sha256, warnings: s.warnings.map(warningView) };
  if (s.placement !== undefined) view.placement = placementView(s.placement);
  return view;
}

/** The placer's summary in a fixed key order. */
export function placementView(p: PlacementSummary): PlacementSummary {
  return { mode: p.mode, hintedPods: p.hintedPods, hintedThreads: p.hintedThreads, misplacedThreads: { ...p.misplacedThreads } };
}

const moveView = (m: TierMove): TierMove => ({ namespace: m.namespace, name: m.name, uid: m.uid, from: m.from, to: m.to });

const rowView = (r: AssignmentRow): AssignmentRow => ({
  namespace: r.namespace, name: r.name, uid: r.uid, tier: r.tier, layer: r.layer, priority: r.priority, qosClass: r.qosClass, reason: r.reason, hint: r.hint,
});

/**
 * A pod's row with its profile: `selection` from the plan (absent or without a profile: null),
 * `placement` its groups' rendering, `threads` what the agent last read of each group (null
 * when it did not read them).
 */
export function podRowView(r: AssignmentRow, selection: PodProfileSelection | undefined, placement: PodProfilePlacement | undefined, threads: ReadonlyMap<string, readonly ProfileThread[]> | null): PodRowView {
  const chosen = selection?.selection.profile ?? null;
  const profile: PodProfileView | null = selection === undefined || chosen === null ? null : {
    name: chosen.profile.name,
    by: selection.selection.by,
    reason: selection.selection.reason,
    groups: (placement?.groups ?? []).map((g) => ({
      group: g.group, treatment: g.treatment, status: g.status, layer: g.layer, hint: g.hint, cores: g.cores, code: g.code, reason: g.reason,
      threads: threads === null ? null : (threads.get(g.group) ?? []).map((t) => ({ tid: t.tid, comm: t.comm })),
    })),
  };
  return { ...rowView(r), profile };
}

export function layerView(l: LayerPlan): LayerView {
  return {
    name: l.name,
    tier: l.tier,
    kind: l.kind,
    pods: l.pods,
    requestMillis: l.requestMillis,
    limitMillis: l.limitMillis,
    cpusRange: l.cpusRange === null ? null : { min: l.cpusRange[0], max: l.cpusRange[1] },
    utilRange: l.utilRange === null ? null : { low: l.utilRange[0], high: l.utilRange[1] },
    weight: l.weight,
    sliceUs: l.sliceUs,
    protected: l.protected,
    preempt: l.preempt,
    exclusive: l.exclusive,
    match: l.match,
    demoted: l.demoted,
    notes: [...l.notes],
  };
}

export function summaryView(g: Generation): GenerationSummaryView {
  return { number: g.number, createdAt: g.createdAt, sha256: g.sha256, moves: g.moves.map(moveView) };
}

export function generationView(g: Generation): GenerationView {
  const distribution = Object.fromEntries(TIERS.map((tier) => {
    const load = g.distribution[tier];
    return [tier, { pods: load.pods, cpuMillis: load.cpuMillis, demoted: load.demoted === true }];
  })) as Record<Tier, TierLoadView>;
  return {
    number: g.number,
    createdAt: g.createdAt,
    sha256: g.sha256,
    configJson: g.configJson,
    assignments: g.assignments.map(rowView),
    layers: g.layers.map(layerView),
    distribution,
    criticalDemoted: g.criticalDemoted,
    moves: g.moves.map(moveView),
    warnings: g.warnings.map(warningView),
  };
}

export function diffView(d: GenerationDiff): DiffView {
  return {
    from: d.from,
    to: d.to,
    layers: d.layers.map((l) => ({
      layer: l.layer,
      change: l.change,
      fields: l.fields.map((f) => ({ path: f.path, before: f.before ?? null, after: f.after ?? null })),
    })),
    moves: d.moves.map(moveView),
    text: d.text,
  };
}

// ---- gRPC messages (agent.proto), from the views ----------------------------------------

// proto3 has no null: an absent optional field is what null means in the views.
const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

const moveMessage = (m: TierMove): TierMoveMessage => ({ namespace: m.namespace, name: m.name, uid: m.uid, from: orUndefined(m.from), to: orUndefined(m.to) });

const warningMessage = (w: PlanWarning): PlanWarningMessage => ({ code: w.code, tier: orUndefined(w.tier), message: w.message });

/** `placement` only in hints placement, as in the view: a cgroup-placement client sees no new field. */
export function statusMessage(s: AgentStatus): AgentStatusMessage {
  const message: AgentStatusMessage = { node: s.node, state: s.state, message: s.message, generation: orUndefined(s.generation), sha256: orUndefined(s.sha256), warnings: s.warnings.map(warningMessage) };
  if (s.placement !== undefined) message.placement = placementView(s.placement);
  return message;
}

export function summaryMessage(v: GenerationSummaryView): GenerationSummaryMessage {
  return { number: v.number, createdAt: v.createdAt, sha256: v.sha256, moves: v.moves.map(moveMessage) };
}

export function generationMessage(v: GenerationView): GenerationMessage {
  return {
    number: v.number,
    createdAt: v.createdAt,
    sha256: v.sha256,
    configJson: v.configJson,
    assignments: v.assignments.map((r) => ({ ...r, hint: orUndefined(r.hint) })),
    layers: v.layers.map((l) => ({
      ...l,
      tier: orUndefined(l.tier),
      limitMillis: orUndefined(l.limitMillis),
      cpusRange: l.cpusRange === null ? null : { ...l.cpusRange },
      utilRange: l.utilRange === null ? null : { ...l.utilRange },
      notes: [...l.notes],
    })),
    distribution: { ...v.distribution },
    criticalDemoted: v.criticalDemoted,
    moves: v.moves.map(moveMessage),
    warnings: v.warnings.map(warningMessage),
  };
}

/** Field values travel as JSON text in the proto (a value can be a number, array, object, …). */
export function diffMessage(v: DiffView): GenerationDiffMessage {
  return {
    from: v.from,
    to: v.to,
    layers: v.layers.map((l) => ({
      layer: l.layer,
      change: l.change,
      fields: l.fields.map((f) => ({ path: f.path, before: JSON.stringify(f.before), after: JSON.stringify(f.after) })),
    })),
    moves: v.moves.map(moveMessage),
    text: v.text,
  };
}

// ---- lookups shared by both APIs --------------------------------------------------------

/** Why a lookup failed: the gRPC status / HTTP status each API maps it to. */
export type LookupFailure =
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'not-found'; readonly message: string }
  | { readonly kind: 'unavailable'; readonly message: string };

export type Lookup<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: LookupFailure };

const fail = <T>(kind: LookupFailure['kind'], message: string): Lookup<T> => ({ ok: false, failure: { kind, message } });

export const NO_GENERATION_YET = 'no config generation yet: the agent has not rendered a config for its node';

/**
 * A generation number from a request (an HTTP path or query value, or a proto uint64 carried as
 * a decimal string): a whole number from 1 up to 2^53 − 1. `what` names it in the message.
 */
export function parseGenerationNumber(text: string | undefined, what: string): Lookup<number> {
  if (text === undefined || text === '') return fail('invalid', `${what}: a generation number is required`);
  if (!/^\d+$/.test(text)) return fail('invalid', `${what}: invalid generation number ${JSON.stringify(text)}: want a whole number ≥ 1`);
  const n = Number(text);
  if (n < 1) return fail('invalid', `${what}: invalid generation number ${text}: generation numbers start at 1`);
  if (!Number.isSafeInteger(n)) return fail('invalid', `${what}: invalid generation number ${text}: too large`);
  return { ok: true, value: n };
}

/** The current generation, or `unavailable` before the first. */
export function currentGeneration(store: GenerationStore): Lookup<Generation> {
  const current = store.current();
  return current === null ? fail('unavailable', NO_GENERATION_YET) : { ok: true, value: current };
}

/** Generation `n`, or why it is not there: not yet recorded, no longer kept, or none at all. */
export function findGeneration(store: GenerationStore, n: number): Lookup<Generation> {
  const found = store.get(n);
  if (found !== null) return { ok: true, value: found };
  const kept = store.list();
  const oldest = kept[0];
  const newest = kept.at(-1);
  if (oldest === undefined || newest === undefined) return fail('unavailable', NO_GENERATION_YET);
  if (n > newest.number) return fail('not-found', `generation ${n} does not exist: the newest is ${newest.number}`);
  return fail('not-found', `generation ${n} is no longer kept: the agent keeps the last ${KEPT_GENERATIONS} (now ${oldest.number}–${newest.number})`);
}

/** The diff from generation `a` to `b`, or why either is missing (the first missing one is named). */
export function findDiff(store: GenerationStore, a: number, b: number): Lookup<GenerationDiff> {
  for (const n of [a, b]) {
    const found = findGeneration(store, n);
    if (!found.ok) return found;
  }
  const diff = store.diff(a, b);
  return diff === null ? fail('not-found', `generation ${a} or ${b} is no longer kept`) : { ok: true, value: diff };
}
