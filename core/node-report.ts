/**
 * The `<prefix>/qos-distribution` annotation as the agent publishes it (format 2,
 * docs/distribution.md): the five tiers of format 1, unchanged, plus what only the agent knows
 * and a scheduler needs: the fence capacity, the enforcement state, the generation and when the
 * agent last vouched for the value. Serializing and parsing live together so they cannot drift.
 */
import type { FenceCapacity } from './capacity.ts';
import type { Plan, QosDistribution, TierLoad } from './plan.ts';
import type { EnforcementState, Tier } from './types.ts';
import { ENFORCEMENT_STATES, TIERS } from './types.ts';
import { isRecord } from './errors.ts';

/** The annotation format version this module writes. */
export const NODE_REPORT_VERSION = 2;

/**
 * The fence as published: the node's capacity exactly as core/capacity.ts computes it (so a
 * reader can call `criticalFits` on it), plus the whole cores Critical holds now.
 */
export interface PublishedFence extends FenceCapacity {
  /** Whole cores the fenced Critical layer holds; 0 when it has no pods or is demoted. */
  readonly fenced: number;
}

/** The whole annotation value (format 2). */
export interface NodeReport {
  readonly tiers: QosDistribution;
  /** The agent's config generation, null before the first one. */
  readonly generation: number | null;
  /** RFC 3339 UTC time the agent last confirmed the value (on change, and every heartbeat). */
  readonly at: string;
  readonly state: EnforcementState;
  readonly fence: PublishedFence;
}

/** The agent-side facts that go into a report besides the plan. */
export interface ReportHealth {
  readonly state: EnforcementState;
  readonly generation: number | null;
  /** RFC 3339 UTC, from the agent's clock (core reads none). */
  readonly at: string;
}

/** The report for a plan and the agent's health. */
export function nodeReportOf(plan: Plan, health: ReportHealth): NodeReport {
  return {
    tiers: plan.distribution, generation: health.generation, at: health.at, state: health.state,
    fence: { ...plan.fence, fenced: plan.fencedCores },
  };
}

/**
 * Compact JSON: the five tier entries first (format 1 readers see what they always saw), then
 * `v`, `gen`, `at`, `state`, `fence`, in that order.
 */
export function serializeNodeReport(r: NodeReport): string {
  const f = r.fence;
  const fence = { ownableCores: f.ownableCores, fenced: f.fenced, cores: f.cores, unownedCores: f.unownedCores, cpus: f.cpus, threadsPerCore: f.threadsPerCore };
  return JSON.stringify({ ...r.tiers, v: NODE_REPORT_VERSION, gen: r.generation, at: r.at, state: r.state, fence });
}

/** The same report with `at` blanked: two reports with equal content keys differ only in time. */
export function nodeReportContent(r: NodeReport): string {
  return serializeNodeReport({ ...r, at: '' });
}

/** `parseNodeReport`'s answer: the report, or why the value is not one. */
export type ParsedNodeReport =
  | { readonly ok: true; readonly report: NodeReport }
  /** `reason` says what is missing or wrong, for a metric label and a log line. */
  | { readonly ok: false; readonly reason: string };

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/**
 * Parses an annotation value. Format 1 values (no `v`, from an older agent) and anything
 * malformed are refused with the reason: a reader then treats the node as publishing no capacity.
 * Unknown fields are ignored, as docs/distribution.md promises consumers may.
 */
export function parseNodeReport(text: string): ParsedNodeReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isRecord(doc)) return { ok: false, reason: 'not a JSON object' };
  if (doc.v === undefined) return { ok: false, reason: 'format 1 (no v): the agent publishes no capacity' };
  if (typeof doc.v !== 'number' || !Number.isInteger(doc.v) || doc.v < NODE_REPORT_VERSION) return { ok: false, reason: `unknown format v=${JSON.stringify(doc.v)}` };
  const tiers = {} as Record<Tier, TierLoad>;
  for (const tier of TIERS) {
    const t = doc[tier];
    if (!isRecord(t) || !isCount(t.pods) || !isCount(t.cpuMillis)) return { ok: false, reason: `${tier}: must have integer pods and cpuMillis` };
    tiers[tier] = t.demoted === true ? { pods: t.pods, cpuMillis: t.cpuMillis, demoted: true } : { pods: t.pods, cpuMillis: t.cpuMillis };
  }
  if (doc.gen !== null && !isCount(doc.gen)) return { ok: false, reason: 'gen: must be an integer or null' };
  if (typeof doc.at !== 'string' || !RFC3339.test(doc.at)) return { ok: false, reason: 'at: must be an RFC 3339 UTC time' };
  if (typeof doc.state !== 'string' || !(ENFORCEMENT_STATES as readonly string[]).includes(doc.state)) return { ok: false, reason: `state: must be one of ${ENFORCEMENT_STATES.join(', ')}` };
  const f = doc.fence;
  const fields = ['ownableCores', 'fenced', 'cores', 'unownedCores', 'cpus', 'threadsPerCore'] as const;
  if (!isRecord(f) || !fields.every((k) => isCount(f[k])) || f.threadsPerCore === 0) {
    return { ok: false, reason: `fence: must have integer ${fields.join(', ')} (threadsPerCore ≥ 1)` };
  }
  return {
    ok: true,
    report: {
      tiers, generation: doc.gen as number | null, at: doc.at, state: doc.state as EnforcementState,
      fence: {
        ownableCores: f.ownableCores as number, fenced: f.fenced as number, cores: f.cores as number,
        unownedCores: f.unownedCores as number, cpus: f.cpus as number, threadsPerCore: f.threadsPerCore as number,
      },
    },
  };
}
