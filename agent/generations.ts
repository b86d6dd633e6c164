/**
 * Config generations: a new one exists only when the rendered bytes change. The last 50 are kept
 * in memory with their time, hash, config, plan summary, and which pods moved between tiers.
 */
import type { PodTier, TierMove } from '../core/diff.ts';
import { diffLayers, tierMoves, unifiedDiff } from '../core/diff.ts';
import type { LayerChange } from '../core/diff.ts';
import type { LayerPlan, PlanWarning } from '../core/layers.ts';
import type { Plan, QosDistribution, TierRow } from '../core/plan.ts';
import { tierRowOf } from '../core/plan.ts';
import type { LayeredConfig } from '../core/scx.ts';

/** One pod's row in a generation: the `tiers -o json` shape. */
export type AssignmentRow = TierRow;

export interface Generation {
  /** 1, 2, 3, … for the agent process's lifetime. */
  readonly number: number;
  /** ISO 8601 time the generation was created. */
  readonly createdAt: string;
  readonly sha256: string;
  readonly configJson: string;
  readonly config: LayeredConfig;
  readonly layers: readonly LayerPlan[];
  readonly assignments: readonly AssignmentRow[];
  readonly distribution: QosDistribution;
  readonly criticalDemoted: boolean;
  /** What the node cannot guarantee under this generation (the plan's warnings). */
  readonly warnings: readonly PlanWarning[];
  /** Pods that entered, left or changed tier since the previous generation. */
  readonly moves: readonly TierMove[];
}

export interface GenerationDiff {
  readonly from: number;
  readonly to: number;
  readonly layers: readonly LayerChange[];
  readonly moves: readonly TierMove[];
  /** Unified diff of the two configs' bytes. */
  readonly text: string;
}

export const KEPT_GENERATIONS = 50;

const podTiers = (rows: readonly AssignmentRow[]): PodTier[] => rows.map((r) => ({ namespace: r.namespace, name: r.name, uid: r.uid, tier: r.tier }));

export class GenerationStore {
  private readonly kept: Generation[] = [];
  private next = 1;
  private readonly listeners = new Set<(g: Generation) => void>();

  /** The newest generation, or null before the first plan. */
  current(): Generation | null {
    return this.kept.at(-1) ?? null;
  }

  /** Newest last. */
  list(): readonly Generation[] {
    return this.kept;
  }

  get(number: number): Generation | null {
    return this.kept.find((g) => g.number === number) ?? null;
  }

  /**
   * Records `plan` as a new generation if its config bytes differ from the current one's, and
   * tells subscribers; returns it. With the same bytes there is no new generation (null), but
   * the current one's pod rows, distribution and warnings (and its moves since the previous
   * generation) follow the plan, and subscribers are told when any of them changed: with `placement = "hints"` pods come and go, and change tier,
   * under one config, and the current generation must not show pods that left. A replaced
   * generation keeps them as they were at its last moment.
   */
  record(plan: Plan, now: Date): Generation | null {
    const current = this.current();
    const assignments = plan.pods.map(tierRowOf);
    if (current !== null && current.sha256 === plan.configSha256) {
      const previous = this.kept.at(-2);
      const updated: Generation = {
        ...current, assignments, distribution: plan.distribution, warnings: plan.warnings,
        moves: tierMoves(previous === undefined ? [] : podTiers(previous.assignments), podTiers(assignments)),
      };
      this.kept[this.kept.length - 1] = updated;
      // Watchers hear of it too, under the same number: the pods they show changed.
      const shown = (g: Generation): string => JSON.stringify([g.assignments, g.distribution, g.warnings, g.moves]);
      if (shown(updated) !== shown(current)) for (const listener of this.listeners) listener(updated);
      return null;
    }
    const generation: Generation = {
      number: this.next++,
      createdAt: now.toISOString(),
      sha256: plan.configSha256,
      configJson: plan.configJson,
      config: plan.config,
      layers: plan.layers,
      assignments,
      distribution: plan.distribution,
      criticalDemoted: plan.criticalDemoted,
      warnings: plan.warnings,
      moves: tierMoves(current === null ? [] : podTiers(current.assignments), podTiers(assignments)),
    };
    this.kept.push(generation);
    if (this.kept.length > KEPT_GENERATIONS) this.kept.shift();
    for (const listener of this.listeners) listener(generation);
    return generation;
  }

  /**
   * Calls `listener` for every new generation, and again for the current one (same number) when
   * its pod rows, distribution, warnings or moves change under the same config, until the
   * returned function is called.
   */
  subscribe(listener: (g: Generation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The changes from generation `a` to `b`; null when either is no longer kept. */
  diff(a: number, b: number): GenerationDiff | null {
    const from = this.get(a);
    const to = this.get(b);
    if (from === null || to === null) return null;
    return {
      from: a,
      to: b,
      layers: diffLayers(from.config, to.config),
      moves: tierMoves(podTiers(from.assignments), podTiers(to.assignments)),
      text: unifiedDiff(from.configJson, to.configJson, `generation ${a} (${from.sha256.slice(0, 12)})`, `generation ${b} (${to.sha256.slice(0, 12)})`),
    };
  }
}
