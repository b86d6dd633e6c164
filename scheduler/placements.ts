/**
 * Pods placed moments ago and not yet seen bound: the extender's stand-in for the Reserve step
 * it does not have (docs/scheduling.md). A pod that passed the filter counts against every node
 * it passed on (pessimistic: the filter must not let two Critical pods take one last core); once
 * prioritized it also counts on the node it scored best, for the scores. An entry ends when the
 * pod informer sees the pod bound or gone, or after `ttlMs`. Per-node sums are kept as entries
 * come and go, so a call costs O(candidate nodes), however many pods are in flight.
 */
import type { TierMillis } from '../core/placement.ts';
import { NO_DEMAND } from '../core/placement.ts';
import type { Tier } from '../core/types.ts';

interface InFlight {
  readonly tier: Tier;
  readonly millis: number;
  readonly candidates: readonly string[];
  likely: string | null;
  readonly expires: number;
}

type Sums = Map<string, Record<Tier, number>>;

function add(sums: Sums, node: string, tier: Tier, millis: number): void {
  let s = sums.get(node);
  if (s === undefined) {
    s = { ...NO_DEMAND };
    sums.set(node, s);
  }
  s[tier] += millis;
  if (s.critical === 0 && s.high === 0 && s.normal === 0 && s.low === 0 && s.background === 0) sums.delete(node);
}

/** `a − b`, tier by tier. */
function minus(a: TierMillis, b: TierMillis): TierMillis {
  return { critical: a.critical - b.critical, high: a.high - b.high, normal: a.normal - b.normal, low: a.low - b.low, background: a.background - b.background };
}

export class Placements {
  /** In insertion order, which is expiry order: every entry lives `ttlMs`. */
  private readonly inFlight = new Map<string, InFlight>();
  private readonly filterSums: Sums = new Map();
  private readonly scoreSums: Sums = new Map();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(ttlMs: number, clock: () => number) {
    this.ttlMs = ttlMs;
    this.clock = clock;
  }

  /** The pod passed the filter on `nodes` (replacing what an earlier attempt recorded). */
  passed(uid: string, tier: Tier, millis: number, nodes: readonly string[]): void {
    this.settled(uid);
    if (nodes.length === 0 || this.ttlMs === 0) return;
    this.inFlight.set(uid, { tier, millis, candidates: [...nodes], likely: null, expires: this.clock() + this.ttlMs });
    for (const n of nodes) add(this.filterSums, n, tier, millis);
  }

  /** The pod was prioritized and scored best on `node`. */
  prioritized(uid: string, node: string): void {
    const e = this.inFlight.get(uid);
    if (e === undefined) return;
    if (e.likely !== null) add(this.scoreSums, e.likely, e.tier, -e.millis);
    e.likely = node;
    add(this.scoreSums, node, e.tier, e.millis);
  }

  /** The pod is bound (the informer saw it) or gone. */
  settled(uid: string): void {
    const e = this.inFlight.get(uid);
    if (e === undefined) return;
    this.inFlight.delete(uid);
    for (const n of e.candidates) add(this.filterSums, n, e.tier, -e.millis);
    if (e.likely !== null) add(this.scoreSums, e.likely, e.tier, -e.millis);
  }

  get size(): number {
    this.expire();
    return this.inFlight.size;
  }

  /**
   * A margin function for one call about pod `uid` (which never counts against itself):
   * `filter` counts every pod on every node it could go to, `score` only on its likely node.
   */
  marginsFor(uid: string, mode: 'filter' | 'score'): (node: string) => TierMillis {
    this.expire();
    const sums = mode === 'filter' ? this.filterSums : this.scoreSums;
    if (sums.size === 0) return () => NO_DEMAND;
    const own = this.inFlight.get(uid);
    const ownNodes = own === undefined ? null : new Set(mode === 'filter' ? own.candidates : own.likely === null ? [] : [own.likely]);
    const ownShare: TierMillis = own === undefined ? NO_DEMAND : { ...NO_DEMAND, [own.tier]: own.millis };
    return (node) => {
      const s = sums.get(node);
      if (s === undefined) return NO_DEMAND;
      return ownNodes?.has(node) === true ? minus(s, ownShare) : s;
    };
  }

  private expire(): void {
    const now = this.clock();
    for (const [uid, e] of this.inFlight) {
      if (e.expires > now) break;
      this.settled(uid);
    }
  }
}
