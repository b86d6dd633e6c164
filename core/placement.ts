/**
 * Capacity-aware placement (docs/scheduling.md): may this node take this pod without demoting
 * Critical, and how good a home is it for the pod's tier. The scheduler extender calls these for
 * every candidate node. Capacity and health come from the agent's report (the node annotation);
 * demand comes from the pods bound to the node, classified by core, plus pods just placed there.
 * The fence arithmetic is the agent's own (`criticalFits`, `coresNeeded` in core/capacity.ts).
 */
import { coresNeeded, criticalFits } from './capacity.ts';
import type { NodeReport } from './node-report.ts';
import type { PlacedPod } from './plan.ts';
import type { Tier, TierName } from './types.ts';
import { TIERS } from './types.ts';

/** CPU requests in millicores per tier. */
export type TierMillis = Readonly<Record<Tier, number>>;

/** No demand in any tier. */
export const NO_DEMAND: TierMillis = { critical: 0, high: 0, normal: 0, low: 0, background: 0 };

/** Summed requests by tier of classified pods (`system` pods count in no tier, as in the annotation). */
export function demandOf(placed: readonly PlacedPod[]): TierMillis {
  const out: Record<Tier, number> = { ...NO_DEMAND };
  for (const p of placed) if (p.assignment.tier !== 'system') out[p.assignment.tier] += p.requestMillis;
  return out;
}

/** The pod being placed: its tier (by core's classifier) and its effective CPU request. */
export interface IncomingPod {
  readonly tier: TierName;
  readonly requestMillis: number;
}

/** One candidate node as the extender sees it. */
export interface CandidateNode {
  readonly name: string;
  /** `status.allocatable.cpu` in millicores. */
  readonly allocatableMillis: number;
  /** The agent's report; null when the node has none (no agent: not Temper-managed) or an unreadable one. */
  readonly report: NodeReport | null;
  /** How long ago the report was last confirmed, by the extender's reckoning; null when unknown. */
  readonly reportAgeMs: number | null;
  /** Requests of the live pods bound to the node, by tier. */
  readonly demand: TierMillis;
  /**
   * Requests of pods placed moments ago and not yet seen bound, by tier: counted on top of
   * `demand` (the extender has no Reserve; this closes most of the gap).
   */
  readonly margin: TierMillis;
}

/** The extender's settings the policy reads. */
export interface PlacementSettings {
  /** A report not confirmed for this long is stale: its node cannot be trusted to fence. */
  readonly staleAfterMs: number;
}

/** The filter's answer for one node: fits, or refused with the reason kube-scheduler shows. */
export type FilterVerdict =
  | { readonly fits: true }
  /**
   * `unresolvable`: evicting lower tiers would not help (the fence is full or Critical already
   * demoted), so preemption should not try; otherwise the node may fit later.
   */
  | { readonly fits: false; readonly unresolvable: boolean; readonly reason: string };

const FITS: FilterVerdict = { fits: true };

/** Why a report cannot be trusted for fencing, or null when it can. */
function unhealthy(settings: PlacementSettings, node: CandidateNode): string | null {
  const r = node.report;
  if (r === null) return null;
  if (r.state !== 'enforcing') return `the Temper agent on node ${node.name} is ${r.state}, not enforcing`;
  if (node.reportAgeMs !== null && node.reportAgeMs > settings.staleAfterMs) {
    return `the Temper agent on node ${node.name} has not reported for ${Math.round(node.reportAgeMs / 1000)}s (stale after ${Math.round(settings.staleAfterMs / 1000)}s)`;
  }
  return null;
}

/**
 * The filter. Only Critical pods are ever refused, and only on Temper-managed nodes (with a
 * report): where the agent is not enforcing or its report is stale; where Critical is already
 * demoted; and where the node's Critical requests plus this pod would need more whole cores than
 * the node can fence — exactly when the agent would demote Critical (`criticalFits`). A refusal
 * caused only by the margin of pods just placed is resolvable (it clears when they bind).
 */
export function filterNode(settings: PlacementSettings, pod: IncomingPod, node: CandidateNode): FilterVerdict {
  if (pod.tier !== 'critical' || node.report === null) return FITS;
  const sick = unhealthy(settings, node);
  if (sick !== null) return { fits: false, unresolvable: false, reason: `temper: ${sick}` };
  const { fence, tiers } = node.report;
  if (tiers.critical.demoted === true) {
    return { fits: false, unresolvable: true, reason: `temper: Critical is already demoted on node ${node.name} (it cannot fence its Critical pods)` };
  }
  const bound = node.demand.critical + pod.requestMillis;
  if (!criticalFits(fence, bound)) {
    return {
      fits: false, unresolvable: true,
      reason: `temper: Critical would need ${coresNeeded(bound, fence.threadsPerCore)} fenced cores on node ${node.name}, which can fence ${fence.ownableCores}`,
    };
  }
  const withMargin = bound + node.margin.critical;
  if (!criticalFits(fence, withMargin)) {
    return {
      fits: false, unresolvable: false,
      reason: `temper: Critical would need ${coresNeeded(withMargin, fence.threadsPerCore)} fenced cores on node ${node.name}, which can fence ${fence.ownableCores}, counting ${node.margin.critical}m of Critical pods placed moments ago`,
    };
  }
  return FITS;
}

/** The extender's score range (kube-scheduler's MinExtenderPriority..MaxExtenderPriority). */
export const MAX_SCORE = 10;
/** The score of a node where Temper has no say for the pod's tier. */
export const NEUTRAL_SCORE = 5;

const clampScore = (x: number): number => Math.max(0, Math.min(MAX_SCORE, Math.round(x)));

/**
 * The score, 0..10, higher is better: the headroom the node keeps for the pod's tier after
 * placing it.
 * - Critical: fenceable cores left, as a share of the node's fence;
 * - High, Normal, Low, Background: allocatable CPU left after the requests of every tier at or
 *   above the pod's (those it competes with) and the pod, as a share of allocatable. Background
 *   counts every tier, so it spreads to where the most CPU stays idle;
 * - a node without a trusted report: 0 for Critical and High (prefer nodes that enforce), the
 *   neutral 5 for the rest; `system` pods always get 5.
 * Pods placed moments ago (`margin`) count as if bound. A node the filter refuses scores 0.
 */
export function scoreNode(settings: PlacementSettings, pod: IncomingPod, node: CandidateNode): number {
  if (pod.tier === 'system') return NEUTRAL_SCORE;
  const trusted = node.report !== null && unhealthy(settings, node) === null;
  if (!trusted) return pod.tier === 'critical' || pod.tier === 'high' ? 0 : NEUTRAL_SCORE;
  if (!filterNode(settings, pod, node).fits) return 0;
  const report = node.report as NodeReport;
  if (pod.tier === 'critical') {
    const { fence } = report;
    if (fence.ownableCores === 0) return 0;
    const need = coresNeeded(node.demand.critical + node.margin.critical + pod.requestMillis, fence.threadsPerCore);
    return clampScore((MAX_SCORE * (fence.ownableCores - need)) / fence.ownableCores);
  }
  if (node.allocatableMillis <= 0) return 0;
  const upTo = TIERS.indexOf(pod.tier);
  let competing = pod.requestMillis;
  for (const tier of TIERS.slice(0, upTo + 1)) competing += node.demand[tier] + node.margin[tier];
  return clampScore((MAX_SCORE * Math.max(0, node.allocatableMillis - competing)) / node.allocatableMillis);
}
