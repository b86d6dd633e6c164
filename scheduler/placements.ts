/**
 * Pods placed moments ago and not yet seen bound: the extender's stand-in for the Reserve step
 * it does not have (docs/scheduling.md). A pod that passed the filter counts against every node
 * it passed on (pessimistic: the filter must not let two Critical pods take one last core); once
 * prioritized it also counts on the node it scored best, for the scores. An entry ends when the
 * pod informer sees the pod bound or gone, or after `ttlMs`.
 */
import type { TierMillis } from '../core/placement.ts';
import { NO_DEMAND } from '../core/placement.ts';
import type { Tier } from '../core/types.ts';

interface InFlight {
  readonly tier: Tier;
  readonly millis: number;
  readonly candidates: ReadonlySet<string>;
  likely: string | null;
  readonly expires: number;
}

export class Placements {
  private readonly inFlight = new Map<string, InFlight>();

  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(ttlMs: number, clock: () => number) {
    this.ttlMs = ttlMs;
    this.clock = clock;
  }

  /** The pod passed the filter on `nodes`. */
  passed(uid: string, tier: Tier, millis: number, nodes: readonly string[]): void {
    if (nodes.length === 0) {
      this.inFlight.delete(uid);
      return;
    }
    this.inFlight.set(uid, { tier, millis, candidates: new Set(nodes), likely: null, expires: this.clock() + this.ttlMs });
  }

  /** The pod was prioritized and scored best on `node`. */
  prioritized(uid: string, node: string): void {
    const e = this.inFlight.get(uid);
    if (e !== undefined) e.likely = node;
  }

  /** The pod is bound (the informer saw it) or gone. */
  settled(uid: string): void {
    this.inFlight.delete(uid);
  }

  get size(): number {
    this.expire();
    return this.inFlight.size;
  }

  /**
   * A margin function for one call about pod `uid` (which never counts against itself):
   * `filter` counts every pod on every node it could go to, otherwise only on its likely node.
   */
  marginsFor(uid: string, mode: 'filter' | 'score'): (node: string) => TierMillis {
    this.expire();
    const others = [...this.inFlight].filter(([k]) => k !== uid).map(([, e]) => e);
    if (others.length === 0) return () => NO_DEMAND;
    return (node) => {
      let out: Record<Tier, number> | null = null;
      for (const e of others) {
        const counts = mode === 'filter' ? e.candidates.has(node) : e.likely === node;
        if (!counts) continue;
        out ??= { ...NO_DEMAND };
        out[e.tier] += e.millis;
      }
      return out ?? NO_DEMAND;
    };
  }

  private expire(): void {
    const now = this.clock();
    for (const [uid, e] of this.inFlight) if (e.expires <= now) this.inFlight.delete(uid);
  }
}
